using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaceCluster.Common.Models.Checkpoints;

namespace FaceCluster.Tests.Cluster;

/// <summary>
/// `facecluster coordinator` and `facecluster worker` as separate processes on loopback: a worker without the face
/// set fetches it over HTTP, a worker joins mid-run, a worker is SIGKILLed mid-run; replicas end identical.
/// </summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public class ClusterProcessTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(150);
    private static readonly Regex WorkerDone = new(@"Worker done: .*replica at step (\d+), checksum ([0-9A-Fa-f]+); images: (\d+) from the data folder, (\d+) from the cache, (\d+) downloaded");

    [Fact]
    public async Task WorkerWithoutTheDataJoinsAndASecondJoinsMidRun_ReplicasEndIdentical()
    {
        using var temp = new ScratchFolder("fc-cluster");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"));
        string run = temp.Combine("run");
        using var coordinator = new FaceClusterProcess("coordinator", temp.Path, "coordinator", "--data", faces, "--run", run,
            "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cycles", "2", "--steps-per-cycle", "30", "--batch", "32", "--min-workers", "1");
        var (join, url) = await Addresses(coordinator);
        string secret = Path.Combine(run, "cluster.secret");
        using var w1 = new FaceClusterProcess("w1", temp.Path, "worker", "--join", join, "--secret-file", secret, "--device", "cpu", "--threads", "1",
            "--max-batch", "32", "--id", "w1", "--data", temp.Combine("not-here"), "--cache", temp.Combine("cache1"));
        using var http = RunTokenClient.For(run);
        await WaitForStep(http, url, 1, coordinator);
        using var w2 = new FaceClusterProcess("w2", temp.Path, "worker", "--join", join, "--secret-file", secret, "--device", "cpu", "--threads", "1",
            "--max-batch", "32", "--id", "w2", "--cache", temp.Combine("cache2"));

        // The late worker is planned into the running ring (GET /api/status shows it active while steps remain).
        var joined = await WaitForStatus(http, url, s => s.GetProperty("workers").EnumerateArray().Any(w => w.GetProperty("id").GetString() == "w2" && w.GetProperty("state").GetString() == "active"), coordinator);
        Assert.True(joined.GetProperty("step").GetInt64() < 60);

        Assert.Equal(0, await coordinator.WaitForExitAsync(RunTimeout));
        Assert.Equal(0, await w1.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, await w2.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Done: step 60", coordinator.Output);

        var d1 = WorkerDone.Match(w1.Output);
        var d2 = WorkerDone.Match(w2.Output);
        Assert.True(d1.Success, w1.Output);
        Assert.True(d2.Success, w2.Output);
        Assert.Equal("60", d1.Groups[1].Value);
        Assert.Equal("60", d2.Groups[1].Value);
        Assert.Equal(d1.Groups[2].Value, d2.Groups[2].Value);
        Assert.Equal(d1.Groups[2].Value, CheckpointChecksum(run, 60));

        // w1 had no face set: every image it read came over HTTP (or from its cache of those downloads), verified.
        Assert.Equal("0", d1.Groups[3].Value);
        Assert.True(long.Parse(d1.Groups[5].Value) > 0, w1.Output);
        var cached = Directory.GetFiles(temp.Combine("cache1"), "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(Path.GetDirectoryName(f)!).Length == 2).ToList();
        Assert.Equal(long.Parse(d1.Groups[5].Value), cached.Count);
        foreach (var file in cached)
            Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))));
    }

    [Fact]
    public async Task WithStayUp_AFinishedRunKeepsServingAndARestartFindsItDoneInsteadOfLooping()
    {
        using var temp = new ScratchFolder("fc-cluster");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 4);
        string run = temp.Combine("run");
        string[] coordinatorArgs = ["coordinator", "--data", faces, "--run", run, "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0",
            "--cycles", "1", "--steps-per-cycle", "2", "--batch", "4", "--resume", "--stay-up"];
        using var coordinator = new FaceClusterProcess("coordinator", temp.Path, coordinatorArgs);
        var (join, url) = await Addresses(coordinator);
        using var worker = new FaceClusterProcess("w1", temp.Path, "worker", "--join", join, "--secret-file", Path.Combine(run, "cluster.secret"),
            "--device", "cpu", "--threads", "1", "--id", "w1", "--stay-up");

        // The run ends; both processes stay up (a restart policy has nothing to restart), the dashboard's API answers.
        await coordinator.WaitForAsync(@"Run done at step 2; serving the dashboard", RunTimeout);
        await worker.WaitForAsync(@"this worker stays up, idle, until stopped", TimeSpan.FromSeconds(60));
        using (var http = RunTokenClient.For(run))
            Assert.Equal("finished", (await http.GetFromJsonAsync<JsonElement>(url + "/api/status")).GetProperty("phase").GetString());
        await Task.Delay(1000);
        Assert.False(coordinator.HasExited, coordinator.Output);
        Assert.False(worker.HasExited, worker.Output);
        coordinator.Terminate();
        worker.Terminate();
        Assert.Equal(0, await coordinator.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        // Restarted as a StatefulSet would: --resume of a finished run starts done and serves, instead of exiting 3.
        using var again = new FaceClusterProcess("coordinator-again", temp.Path, coordinatorArgs);
        await again.WaitForAsync(@"Run done at step 2; serving the dashboard", TimeSpan.FromSeconds(90));
        Assert.False(again.HasExited, again.Output);
        again.Terminate();
        Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        // It wrote no checkpoint, but the run has one: its closing line names it, not "none".
        Assert.Contains("Last checkpoint: " + Path.Combine(run, "checkpoints", "step-2"), again.Output);
    }

    [Fact]
    public async Task WorkerKilledMidRun_SurvivorFinishesEveryPlannedStep()
    {
        using var temp = new ScratchFolder("fc-cluster");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"));
        string run = temp.Combine("run");
        using var coordinator = new FaceClusterProcess("coordinator", temp.Path, "coordinator", "--data", faces, "--run", run,
            "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cycles", "3", "--steps-per-cycle", "6", "--batch", "16", "--min-workers", "2");
        var (join, url) = await Addresses(coordinator);
        string secret = Path.Combine(run, "cluster.secret");
        using var w1 = new FaceClusterProcess("w1", temp.Path, "worker", "--join", join, "--secret-file", secret, "--device", "cpu", "--threads", "1", "--max-batch", "16", "--id", "w1");
        using var w2 = new FaceClusterProcess("w2", temp.Path, "worker", "--join", join, "--secret-file", secret, "--device", "cpu", "--threads", "1", "--max-batch", "16", "--id", "w2");
        using var http = RunTokenClient.For(run);
        var status = await WaitForStep(http, url, 3, coordinator);
        Assert.Equal(2, status.GetProperty("workers").GetArrayLength());
        w2.Kill(); // SIGKILL

        Assert.Equal(0, await coordinator.WaitForExitAsync(RunTimeout));
        Assert.Equal(0, await w1.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Done: step 18", coordinator.Output);
        var d1 = WorkerDone.Match(w1.Output);
        Assert.True(d1.Success, w1.Output);
        Assert.Equal("18", d1.Groups[1].Value);
        Assert.Equal(d1.Groups[2].Value, CheckpointChecksum(run, 18));
    }

    [Fact]
    public async Task WorkerWithAnotherSecret_IsToldSo()
    {
        using var temp = new ScratchFolder("fc-cluster");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 4);
        string run = temp.Combine("run");
        using var coordinator = new FaceClusterProcess("coordinator", temp.Path, "coordinator", "--data", faces, "--run", run,
            "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cycles", "1", "--steps-per-cycle", "2", "--batch", "4");
        var (join, _) = await Addresses(coordinator);
        string wrong = temp.Combine("wrong.secret");
        File.WriteAllText(wrong, "0123456789abcdef0123456789abcdef\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrong, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var worker = new FaceClusterProcess("w1", temp.Path, "worker", "--join", join, "--secret-file", wrong, "--device", "cpu", "--threads", "1", "--id", "w1");
        Assert.NotEqual(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("cluster secret does not match the coordinator's", worker.Output);
        coordinator.Terminate();
        Assert.NotEqual(0, await coordinator.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Stopped at step 0", coordinator.Output);
    }

    internal static async Task<(string Join, string Url)> Addresses(FaceClusterProcess coordinator)
    {
        var join = await coordinator.WaitForAsync(@"--join (\S+)", TimeSpan.FromSeconds(60));
        var url = await coordinator.WaitForAsync(@"HTTP API: (\S+)", TimeSpan.FromSeconds(10));
        return (join.Groups[1].Value, url.Groups[1].Value);
    }

    /// <summary>Polls GET /api/status until the run has completed <paramref name="step"/> steps.</summary>
    internal static Task<JsonElement> WaitForStep(HttpClient http, string url, long step, FaceClusterProcess coordinator) =>
        WaitForStatus(http, url, s => s.GetProperty("step").GetInt64() >= step, coordinator);

    /// <summary>Polls GET /api/status until <paramref name="done"/> holds.</summary>
    internal static async Task<JsonElement> WaitForStatus(HttpClient http, string url, Func<JsonElement, bool> done, FaceClusterProcess coordinator)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (coordinator.HasExited) throw new Xunit.Sdk.XunitException("the coordinator exited early:\n" + coordinator.Output);
            var status = await http.GetFromJsonAsync<JsonElement>(url + "/api/status");
            if (done(status)) return status;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"the awaited status did not come:\n{coordinator.Output}");
    }

    internal static string CheckpointChecksum(string runDir, long step) =>
        CheckpointStore.Open(Path.Combine(runDir, "checkpoints", $"step-{step}")).Meta.Extra["parameterChecksum"];
}
