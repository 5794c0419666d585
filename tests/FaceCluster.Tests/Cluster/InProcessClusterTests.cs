using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using FaceCluster.Cli.Hosts;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Hosting;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Torch;
using FaceCluster.Coordinator.ControlPlane;
using FaceCluster.Coordinator.Hosting;
using FaceCluster.Coordinator.Runs;
using FaceCluster.GpuWorker.Actors;
using FaceCluster.GpuWorker.Devices;
using FaceCluster.GpuWorker.Hosting;
using FaceCluster.GpuWorker.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.Cluster;

/// <summary>
/// Two actor systems in one process joined into one cluster over Akka.Remote on loopback: a coordinator-only node and a
/// worker node with two workers. They train a few steps of a tiny synthetic face set; the replicas end identical.
/// </summary>
[Trait("Tier", "integration")]
public sealed class InProcessClusterTests
{
    [Fact]
    public async Task A_coordinator_node_and_a_worker_node_train_together()
    {
        TorchRuntime.EnsureLoaded();
        using var temp = new ScratchFolder("fc-inproc");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 6);
        string runDir = temp.Combine("run");
        var manifest = ManifestStore.LoadOrBuild(faces, runDir, ScanOptions.Default with { MinImages = 1 }).Manifest;
        var labels = manifest.Identities.ToArray();
        byte[] secret = "in-process cluster test secret!!"u8.ToArray();
        var logs = NullLoggerFactory.Instance;
        var preset = ModelPreset.Tiny;
        var run = new RunSpec($"inproc-{manifest.ManifestHash[..8]}", ModelKind.Autoencoder.ToString(), preset.Name, labels, manifest.ManifestHash,
            manifest.DataRoot, "", TrainerOptions.For(preset).LearningRate, 0, 7, StepsPerCycle: 3, Augment: false);
        var hub = new RunObserverHub();
        var settings = new CoordinatorSettings(run, GlobalBatch: 8, TotalSteps: 6, MinWorkers: 2,
            TimeSpan.FromSeconds(3), LedgerWiring.PropsFor(runDir, manifest, CurationPolicyOptions.Default, QuarantineAction.Exclude, logs), null, null, hub);

        using var tls = ClusterTls.FromSecret(secret);
        var coordinatorNode = new ClusterNodeOptions { Hostname = "127.0.0.1", Port = 0, Roles = [ClusterNodeOptions.CoordinatorRole], Tls = tls };
        using var coordinatorHost = ClusterNodeHost.Build(coordinatorNode, NullLoggerFactory.Instance, akka => akka.WithCoordinator(settings));
        await coordinatorHost.StartAsync();
        var coordinatorSystem = coordinatorHost.Services.GetRequiredService<ActorSystem>();
        var self = Akka.Cluster.Cluster.Get(coordinatorSystem).SelfAddress;

        var device = DeviceInventory.Select(DeviceSpec.Cpu)[0];
        var engines = new List<WorkerEngine>();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                var endpoint = new DataPlaneEndpoint(IPAddress.Loopback, 0, secret, NullLogger.Instance);
                engines.Add(new WorkerEngine(new WorkerEngineOptions($"node2-{i}", 1, 8), device, endpoint, secret, NullLogger.Instance));
            }
            var faceSets = new LocalFaceSetProvider(manifest, new LocalFaceImageSource(manifest.DataRoot), null, 1, NullLogger.Instance);
            var workers = new WorkerLifecycle();
            var workerNode = new ClusterNodeOptions { Hostname = "127.0.0.1", Port = 0, SeedNodes = [$"{self.Host}:{self.Port}"], Roles = [ClusterNodeOptions.WorkerRole], Tls = tls };
            using var workerHost = ClusterNodeHost.Build(workerNode, NullLoggerFactory.Instance, akka => akka.WithWorkers(engines, faceSets, workers, createProxy: true));
            await workerHost.StartAsync();
            try
            {
                using var kit = new Akka.TestKit.Xunit2.TestKit(coordinatorSystem);
                // Both systems are Up members of one cluster, with their roles.
                await kit.AwaitAssertAsync(() =>
                {
                    var members = Akka.Cluster.Cluster.Get(coordinatorSystem).State.Members.Where(m => m.Status == MemberStatus.Up).ToList();
                    Assert.Equal(2, members.Count);
                    Assert.Contains(members, m => m.HasRole(ClusterNodeOptions.WorkerRole) && !m.HasRole(ClusterNodeOptions.CoordinatorRole));
                }, TimeSpan.FromSeconds(30));

                var done = await Task.WhenAny(hub.Completion, Task.Delay(TimeSpan.FromSeconds(120)));
                Assert.True(done == hub.Completion, "the run did not finish within 120 s");
                Assert.Equal(6, (await hub.Completion).Step);

                var coordinator = coordinatorHost.Services.GetRequiredService<ActorRegistry>().Get<CoordinatorProxyKey>();
                var probe = kit.CreateTestProbe();
                coordinator.Tell(GetClusterStatus.Instance, probe.Ref);
                var state = await probe.ExpectMsgAsync<ClusterStatus>(TimeSpan.FromSeconds(10));
                Assert.Equal(2, state.Workers.Length);
                Assert.All(state.Workers, w => Assert.Equal(6, w.ReplicaStep));
                Assert.Single(state.Workers.Select(w => w.Checksum).Distinct());
                Assert.Equal(await engines[0].Checksum(), await engines[1].Checksum());
                Assert.Equal(new WorkerOutcome(WorkerOutcomeKind.Finished, 6, "all planned steps are done"), await workers.Outcome.WaitAsync(TimeSpan.FromSeconds(10)));
            }
            finally
            {
                await workerHost.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            }
        }
        finally
        {
            await coordinatorHost.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            foreach (var e in engines) { e.Dispose(); e.Endpoint.Dispose(); }
        }
    }
}
