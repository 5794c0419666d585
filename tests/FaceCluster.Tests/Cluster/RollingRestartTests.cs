using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using Xunit.Abstractions;
using static FaceCluster.Tests.Cluster.ClusterProcessTests;

namespace FaceCluster.Tests.Cluster;

/// <summary>
/// Restarts of a deployment during one run, as separate processes on loopback. A rolling restart: each worker in
/// turn leaves gracefully and comes back as a new process (it resyncs from its peer), then the coordinator is
/// stopped (it checkpoints) and started again with --resume while the workers wait for it with their replicas.
/// A crash: the coordinator is SIGKILLed; the workers notice, keep their replicas and rejoin its successor.
/// </summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    private const int Cycles = 8, StepsPerCycle = 50, Batch = 16;
    private const long Planned = Cycles * StepsPerCycle;
    private static readonly Regex WorkerDone = new(@"Worker done: (.*); replica at step (\d+), checksum ([0-9A-Fa-f]+)");

    [Fact]
    public async Task Every_node_restarted_once_the_run_reaches_its_planned_steps_with_every_step_in_the_ledger_and_identical_replicas()
    {
        using var deployment = await Deployment.StartAsync("fc-rolling");
        using var http = RunTokenClient.For(deployment.RunDir);

        // Workers, one at a time: a graceful leave at a step boundary, a new process under the same id, a resync.
        foreach (var id in deployment.Workers.Keys.ToList())
        {
            deployment.Workers[id].Terminate();
            Assert.Equal(ExitCodes.Ok, await deployment.Workers[id].WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Matches(@"Worker done: left at step \d+ on request", deployment.Workers[id].Output);
            long leftAt = (await http.GetFromJsonAsync<JsonElement>(deployment.Url + "/api/status")).GetProperty("step").GetInt64();
            deployment.StartWorker(id);
            var back = await WaitForStatus(http, deployment.Url, s => ActiveWorkers(s) == 2 && s.GetProperty("step").GetInt64() > leftAt + 1, deployment.Coordinator);
            long step = back.GetProperty("step").GetInt64();
            Assert.True(step < Planned, $"the run ended before {id} was back; plan a longer run");
            output.WriteLine($"{id} left at step {leftAt}, back in the ring at step {step} of {Planned}");
        }

        // Each leave was a member's own message (the coordinator drops one that does not come from the registered actor).
        Assert.DoesNotContain("claiming to be from worker", deployment.Coordinator.Output);

        // The coordinator: it stops at a step boundary and checkpoints; the workers keep their replicas and wait.
        deployment.Coordinator.Terminate();
        Assert.Equal(ExitCodes.Interrupted, await deployment.Coordinator.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        var stopped = Regex.Match(deployment.Coordinator.Output, @"Stopped at step (\d+)\. Last checkpoint: (\S+)");
        Assert.True(stopped.Success, deployment.Coordinator.Output);
        long stoppedAt = long.Parse(stopped.Groups[1].Value);
        Assert.InRange(stoppedAt, 1, Planned - 1);
        output.WriteLine($"the coordinator stopped at step {stoppedAt} of {Planned}");
        foreach (var w in deployment.Workers.Values)
            await w.WaitForAsync($@"the coordinator stopped at step {stoppedAt} .*rejoining {Regex.Escape(deployment.Join)}", TimeSpan.FromSeconds(60));

        var resumed = deployment.StartCoordinator(resume: true);
        Assert.Equal(ExitCodes.Ok, await resumed.WaitForExitAsync(TimeSpan.FromSeconds(240)));
        Assert.Contains($"Done: step {Planned}", resumed.Output);
        Assert.DoesNotContain("were lost", resumed.Output);
        await AssertReplicasIdenticalAtTheEnd(deployment);

        // Every step's loss records reached the ledger: one record per sample of the global batch, every step complete.
        var stats = LedgerStats(deployment.RunDir);
        Assert.Equal(Planned, stats.Steps);
        Assert.Equal(Planned - 1, stats.LastStep);
        Assert.Equal(0, stats.IncompleteSteps);
        Assert.Equal(Planned * Batch, stats.Observations);
    }

    [Fact]
    public async Task A_coordinator_killed_mid_run_is_restarted_and_the_waiting_workers_go_on_from_their_replicas()
    {
        using var deployment = await Deployment.StartAsync("fc-coordinator-kill");
        using var http = RunTokenClient.For(deployment.RunDir);
        await WaitForStatus(http, deployment.Url, s => s.GetProperty("step").GetInt64() >= StepsPerCycle + 5, deployment.Coordinator);
        deployment.Coordinator.Kill(); // SIGKILL: no checkpoint, no goodbye

        // Each worker keeps its replica and rejoins: because the coordinator's node left the cluster, or, on a loaded
        // machine, because the split brain resolver downed the worker itself while the coordinator was unreachable
        // (seen once in CI: "this worker's cluster node stopped ...; keeping the replica at step 100 and rejoining").
        foreach (var w in deployment.Workers.Values)
            await w.WaitForAsync(@"keeping the replica at step (\d+) and rejoining", TimeSpan.FromSeconds(60));
        var resumed = deployment.StartCoordinator(resume: true);
        Assert.Equal(ExitCodes.Ok, await resumed.WaitForExitAsync(TimeSpan.FromSeconds(240)));
        Assert.Contains($"Done: step {Planned}", resumed.Output);
        // The replicas had gone past the last checkpoint: the new coordinator continues from them, no step is trained twice.
        var adopted = Regex.Match(resumed.Output, @"live replicas are at step (\d+), newer than the checkpoint's (\d+)");
        Assert.True(adopted.Success, resumed.Output);
        long from = long.Parse(adopted.Groups[1].Value);
        output.WriteLine($"resumed from the replicas at step {from} (checkpoint {adopted.Groups[2].Value})");
        await AssertReplicasIdenticalAtTheEnd(deployment);

        // The killed coordinator had not flushed its last loss reports; the workers kept every report no ledger had
        // confirmed on disk and sent them again to the new coordinator: no record is lost, none is counted twice.
        Assert.DoesNotContain("were lost", resumed.Output);
        var stats = LedgerStats(deployment.RunDir);
        Assert.Equal(Planned - 1, stats.LastStep);
        Assert.Equal(Planned, stats.Steps);
        Assert.Equal(0, stats.IncompleteSteps);
        Assert.Equal(Planned * Batch, stats.Observations);
    }

    private static async Task AssertReplicasIdenticalAtTheEnd(Deployment deployment)
    {
        var checksums = new List<string>();
        foreach (var w in deployment.Workers.Values)
        {
            Assert.Equal(ExitCodes.Ok, await w.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var done = WorkerDone.Match(w.Output);
            Assert.True(done.Success, w.Output);
            Assert.Equal("all planned steps are done", done.Groups[1].Value);
            Assert.Equal($"{Planned}", done.Groups[2].Value);
            checksums.Add(done.Groups[3].Value);
        }
        Assert.Single(checksums.Distinct());
        Assert.Equal(checksums[0], CheckpointChecksum(deployment.RunDir, Planned));
    }

    private LedgerStats LedgerStats(string runDir)
    {
        using var ledger = LedgerEngine.OpenReadOnly(runDir);
        var stats = ledger.Stats();
        // For a failure's reader: which steps lack a report, and which reports came late, by worker.
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(runDir, "ledger.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT step, reports, expected, late FROM steps WHERE complete = 0 OR late = 1 ORDER BY step;";
        using var r = cmd.ExecuteReader();
        while (r.Read()) output.WriteLine($"ledger step {r.GetInt64(0)}: {r.GetInt64(1)} of {r.GetInt64(2)} reports{(r.GetInt64(3) == 1 ? ", late" : "")}");
        return stats;
    }

    private static int ActiveWorkers(JsonElement status) =>
        status.GetProperty("workers").EnumerateArray().Count(w => w.GetProperty("state").GetString() == "active");

    /// <summary>A coordinator on a fixed port (a restart comes back at the same --join address) and workers w1, w2, training.</summary>
    private sealed class Deployment : IDisposable
    {
        private readonly ScratchFolder _temp;
        private readonly List<FaceClusterProcess> _processes = [];
        private readonly string[] _coordinatorArgs;

        private Deployment(ScratchFolder temp)
        {
            _temp = temp;
            string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"));
            RunDir = temp.Combine("run");
            Join = $"127.0.0.1:{FreePort()}";
            _coordinatorArgs = ["coordinator", "--data", faces, "--run", RunDir, "--bind", Join, "--http", "127.0.0.1:0",
                "--cycles", $"{Cycles}", "--steps-per-cycle", $"{StepsPerCycle}", "--batch", $"{Batch}", "--min-workers", "2"];
        }

        public string RunDir { get; }
        public string Join { get; }
        public string Url { get; private set; } = "";
        public FaceClusterProcess Coordinator { get; private set; } = null!;
        public Dictionary<string, FaceClusterProcess> Workers { get; } = [];

        public static async Task<Deployment> StartAsync(string name)
        {
            var deployment = new Deployment(new ScratchFolder(name));
            try
            {
                deployment.StartCoordinator(resume: false);
                var (join, url) = await Addresses(deployment.Coordinator);
                Assert.Equal(deployment.Join, join);
                deployment.Url = url;
                deployment.StartWorker("w1");
                deployment.StartWorker("w2");
                using var http = RunTokenClient.For(deployment.RunDir);
                await WaitForStatus(http, url, s => s.GetProperty("step").GetInt64() >= 2 && ActiveWorkers(s) == 2, deployment.Coordinator);
                return deployment;
            }
            catch
            {
                deployment.Dispose();
                throw;
            }
        }

        public FaceClusterProcess StartCoordinator(bool resume)
        {
            Coordinator = Start(resume ? "coordinator-again" : "coordinator", resume ? [.. _coordinatorArgs, "--resume"] : _coordinatorArgs);
            return Coordinator;
        }

        public void StartWorker(string id) =>
            Workers[id] = Start(Workers.ContainsKey(id) ? id + "-again" : id, ["worker", "--join", Join, "--secret-file", Path.Combine(RunDir, "cluster.secret"),
                "--device", "cpu", "--threads", "1", "--max-batch", $"{Batch}", "--id", id, "--coordinator-wait", "120"]);

        private FaceClusterProcess Start(string name, string[] args)
        {
            var p = new FaceClusterProcess(name, _temp.Path, args);
            _processes.Add(p);
            return p;
        }

        public void Dispose()
        {
            foreach (var p in _processes) p.Dispose();
            _temp.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
