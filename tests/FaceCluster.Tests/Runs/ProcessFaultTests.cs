using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using FaceCluster.Cli.Hosts;
using FaceCluster.Common.Hosting;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Protocol;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Synth;
using FaceCluster.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.Runs;

/// <summary>
/// Faults met by `facecluster` processes: a second coordinator on a run folder, a disk that fills up, and a worker
/// node of another protocol version joining over the network.
/// </summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public sealed class ProcessFaultTests
{
    [Fact]
    public async Task A_second_coordinator_on_the_same_run_folder_is_refused_by_the_lock()
    {
        using var temp = new ScratchFolder("fc-two-coordinators");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 4);
        string run = temp.Combine("run");
        string[] args = ["coordinator", "--data", faces, "--run", run, "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cycles", "1", "--steps-per-cycle", "2", "--batch", "4"];
        using var first = new FaceClusterProcess("coordinator-1", temp.Path, args);
        await first.WaitForAsync(@"HTTP API: (\S+)", TimeSpan.FromSeconds(60));

        using var second = new FaceClusterProcess("coordinator-2", temp.Path, args);
        Assert.Equal(ExitCodes.Locked, await second.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"{run} is in use by", second.Output);

        // The first one is untouched: it still owns the folder and stops as it should.
        Assert.False(first.HasExited, first.Output);
        first.Terminate();
        Assert.Equal(ExitCodes.Interrupted, await first.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_worker_node_of_another_protocol_version_is_refused_at_join_naming_both_versions()
    {
        using var temp = new ScratchFolder("fc-other-version");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 4);
        string run = temp.Combine("run");
        using var coordinator = new FaceClusterProcess("coordinator", temp.Path, "coordinator", "--data", faces, "--run", run,
            "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cycles", "1", "--steps-per-cycle", "2", "--batch", "4");
        var (join, _) = await ClusterProcessTests.Addresses(coordinator);

        // This test process is the other node: it joins the coordinator's cluster over Akka.Remote, as a worker of a
        // newer protocol and build would, and registers through the coordinator singleton's proxy.
        using var tls = ClusterTls.FromSecret(ClusterSecret.Read(Path.Combine(run, ClusterSecret.FileName)));
        var node = new ClusterNodeOptions { Hostname = "127.0.0.1", Port = 0, SeedNodes = [join], Roles = [ClusterNodeOptions.WorkerRole], Tls = tls };
        using var host = ClusterNodeHost.Build(node, NullLoggerFactory.Instance,
            akka => akka.WithSingletonProxy<CoordinatorProxyKey>("coordinator", new ClusterSingletonOptions { Role = ClusterNodeOptions.CoordinatorRole }));
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var proxy = host.Services.GetRequiredService<ActorRegistry>().Get<CoordinatorProxyKey>();
            using var kit = new Akka.TestKit.Xunit2.TestKit(system);
            var probe = kit.CreateTestProbe();
            var device = new DeviceReport("cpu", 0, "test", "other build", 0, 0, 0, "");
            var register = new RegisterWorker("newer-worker", "test-host", ProtocolInfo.Version + 1, "99.0.0-newer", "127.0.0.1:1", device, -1);
            RegistrationRefused? refused = null;
            // The proxy buffers until the cluster join completes; retry in case the first message is dropped meanwhile.
            await kit.AwaitAssertAsync(() =>
            {
                proxy.Tell(register, probe.Ref);
                refused = probe.ExpectMsg<RegistrationRefused>(TimeSpan.FromSeconds(3));
            }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            Assert.Contains($"protocol v{ProtocolInfo.Version + 1} (build 99.0.0-newer)", refused!.Reason);
            Assert.Contains($"protocol v{ProtocolInfo.Version} (build {ProtocolInfo.Build})", refused.Reason);
            Assert.Equal(ProtocolInfo.Version, refused.CoordinatorProtocol);
            await coordinator.WaitForAsync("Refused newer-worker", TimeSpan.FromSeconds(10));
        }
        finally
        {
            await host.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            coordinator.Terminate();
        }
        Assert.Equal(ExitCodes.Interrupted, await coordinator.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [MountFact]
    public async Task A_disk_that_fills_up_during_a_checkpoint_keeps_the_previous_one_and_the_run_goes_on()
    {
        using var temp = new ScratchFolder("fc-disk-full");
        string data = temp.Combine("faces");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 8, Size = 32, Seed = 11 });
        // A tiny-preset checkpoint (weights and Adam state) is about 21 MB: 45 MB holds two, not the four planned.
        using var disk = new TmpfsMount(temp.Combine("small-disk"), 45L << 20);
        string run = Path.Combine(disk.Path, "run");
        using var train = new FaceClusterProcess("train", temp.Path, "train", "--data", data, "--run", run, "--workers", "2",
            "--cycles", "4", "--steps-per-cycle", "5", "--batch", "8", "--keep-checkpoints", "4");
        Assert.Equal(ExitCodes.Ok, await train.WaitForExitAsync(TimeSpan.FromSeconds(180)));
        string output = train.Output;
        Assert.Contains("Done: step 20", output);
        var failed = Regex.Matches(output, @"checkpoint of step (\d+) failed: the disk is full: checkpoint step-\1 could not be written to \S+; the previous checkpoint (step-\d+) is kept");
        Assert.True(failed.Count > 0, output);
        var last = Regex.Match(output, @"Last checkpoint: (\S+)");
        Assert.True(last.Success, output);

        // The checkpoint named as kept is the newest valid one; nothing half-written is left under a step name.
        var store = new CheckpointStore(run);
        var latest = store.FindLatestValid(out var skipped);
        Assert.NotNull(latest);
        Assert.Empty(skipped);
        Assert.Equal(latest.Directory, last.Groups[1].Value);
        Assert.Equal(Path.GetFileName(latest.Directory), failed[^1].Groups[2].Value);
        Assert.Equal(Directory.GetDirectories(Path.Combine(run, "checkpoints"), "step-*").Order(), store.ListValid().Select(c => c.Directory).Order());
    }
}
