using FaceCluster.Common.IO;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using FaceCluster.Common.Hosting;
using FaceCluster.Synth;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// `facecluster bench hetero`: two worker processes of one libtorch thread each, one of them slowed to a fraction
/// of a core by a cgroup CPU quota (a stand-in for a smaller GPU). It measures, each in its own short run with a
/// coordinator process: each worker alone, both with batches split by measured speed, and both with an equal
/// split. Reported: balanced / (sum of the standalone rates) — the target is ≥ 0.9 — and balanced / equal. Without
/// augmentation, as `bench scaling`: the work is each worker's compute, the all-reduce and the coordination.
/// A fifth phase measures the host's ceiling: each worker alone in its own run (its own coordinator, no ring between
/// them), both runs at the same time on the same cores, timed over the same window: the sum of what they reach
/// together bounds what one run with both can reach on this host.
/// A sixth phase runs one ring that mixes update placements (the fast worker updates its share with the device-side
/// optimizer, the slow one on the host, as a GPU and a CPU worker would) and shows, from each worker's own log, that
/// both placements ran in it.
/// </summary>
internal static class BenchHeteroCommand
{
    private static readonly Option<double> SlowCores = new("--slow-cores") { Description = "CPU time the slow worker may use, in cores.", DefaultValueFactory = _ => 1.0 / 3 };
    private static readonly Option<int> Steps = new("--steps") { Description = "Steps timed per phase (after 40 warm-up steps).", DefaultValueFactory = _ => 60 };
    private static readonly Option<int> Batch = new("--batch") { Description = "Global batch per step.", DefaultValueFactory = _ => 32 };
    private static readonly Option<string> Overlap = new("--overlap") { Description = "The workers' --overlap (auto, on or off).", DefaultValueFactory = _ => "auto" };
    private static readonly Option<string?> Data = new("--data") { Description = "Face-set folder (default: a generated one of 8 identities x 60)." };

    // The coordinator corrects the calibrated split after ~10 measured steps (and again if the first correction was
    // not enough): the warm-up covers that, so the timed steps show the split it settles on.
    private const int WarmupSteps = 40;

    private static string s_overlap = "auto";

    public static Command Create()
    {
        return CliCommands.Define("hetero", "Two one-thread worker processes, one slowed by a cgroup CPU quota: throughput with speed-balanced batches against an equal split and against the sum of each worker alone.", Run,
            SlowCores, Steps, Batch, Data, Overlap);
    }

    private static int Run(ParseResult parse)
    {
        var o = parse.InvocationConfiguration.Output;
        var inv = CultureInfo.InvariantCulture;
        double slowCores = parse.GetValue(SlowCores);
        int steps = parse.GetValue(Steps), batch = parse.GetValue(Batch);
        s_overlap = FaceCluster.Common.Models.Training.StepOverlap.Normalize(parse.GetValue(Overlap));
        if (!(slowCores is > 0.01 and <= 64)) throw new FaceClusterException($"--slow-cores must be in (0.01, 64], got {slowCores}", ExitCodes.UsageError);
        if (steps < 1) throw new FaceClusterException($"--steps must be at least 1, got {steps}", ExitCodes.UsageError);
        if (batch < 2) throw new FaceClusterException($"--batch must be at least 2, got {batch}", ExitCodes.UsageError);

        // Ctrl-C or SIGTERM stops the phase under way: its processes are killed and the cgroup removed on the way out.
        using var signals = new CliSignals();
        using var temp = new ScratchFolder("hetero");
        string data = parse.GetValue(Data) ?? temp.Combine("faces");
        if (parse.GetValue(Data) == null)
            SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 8, PerIdentity = 60, Size = 64, Seed = 3 });
        string secret = temp.Combine(ClusterSecret.FileName);
        DurableFiles.WriteAllText(secret, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)), privateFile: true);
        using var group = CpuQuotaGroup.Create($"facecluster-bench-{Environment.ProcessId}", slowCores);
        o.WriteLine(string.Create(inv, $"bench hetero: tiny autoencoder, global batch {batch}, {steps} steps timed per phase; workers of 1 thread (--overlap {s_overlap}), 'slow' limited to {slowCores:F2} cores by {group}"));

        int phase = 0;
        double Measure(string name, bool fast, bool slow, string balance)
        {
            var (rate, split) = Phase(temp.Combine($"run-{phase++}"), data, secret, group, fast, slow, balance, batch, steps, signals.Token);
            o.WriteLine(string.Create(inv, $"  {name,-26} {rate,8:F1} samples/s   {split}"));
            return rate;
        }

        double fastAlone, slowAlone, balanced, equal, together, mixed;
        string mixedPlacements;
        try
        {
            fastAlone = Measure("fast worker alone", true, false, "speed");
            slowAlone = Measure("slow worker alone", false, true, "speed");
            balanced = Measure("both, split by speed", true, true, "speed");
            equal = Measure("both, split equally", true, true, "equal");
            var window = TimeSpan.FromSeconds(Math.Clamp(steps * (double)batch / slowAlone, 10, 60)); // about the slow phase's timed steps
            var (fast, slow) = SideBySide(temp.Combine($"run-{phase++}"), temp.Combine($"run-{phase++}"), data, secret, group, batch, window, signals.Token);
            together = fast + slow;
            o.WriteLine(string.Create(inv, $"  {"each alone, side by side",-26} {together,8:F1} samples/s   fast {fast:F1} + slow {slow:F1}: two separate runs at once, over the same {window.TotalSeconds:F0} s"));
            (mixed, string mixedSplit, mixedPlacements) = MixedPhase(temp.Combine($"run-{phase++}"), data, secret, group, batch, steps, signals.Token);
            o.WriteLine(string.Create(inv, $"  {"both, mixed update",-26} {mixed,8:F1} samples/s   {mixedSplit}; {mixedPlacements}"));
        }
        catch (OperationCanceledException)
        {
            o.WriteLine("bench hetero: stopped by a signal; its processes and cgroup are gone");
            return ExitCodes.Interrupted;
        }
        o.WriteLine(string.Create(inv, $"balanced / (fast alone + slow alone): {balanced / (fastAlone + slowAlone):F2} (target >= 0.9)"));
        o.WriteLine(string.Create(inv, $"host ceiling: each alone side by side / (fast alone + slow alone): {together / (fastAlone + slowAlone):F2}; balanced / that ceiling: {balanced / together:F2}"));
        o.WriteLine(string.Create(inv, $"balanced / equal split: {balanced / equal:F2}x"));
        o.WriteLine(string.Create(inv, $"mixed update (fast on the device path, slow on the host) / balanced: {mixed / balanced:F2} (on a CPU both placements compute on the same cores; the mix is shown to run, not to win)"));
        return ExitCodes.Ok;
    }

    /// <summary>One short run: a coordinator process and the chosen workers; samples/s over the timed steps.</summary>
    private static (double Rate, string Split) Phase(string runDir, string data, string secret, CpuQuotaGroup group, bool fast, bool slow, string balance, int batch, int steps,
        CancellationToken cancellationToken)
    {
        using var run = StartRun(runDir, data, secret, group, fast, slow, balance, batch);
        long from = WaitForStep(run, WarmupSteps, run.Processes, TimeSpan.FromMinutes(5), cancellationToken);
        var watch = Stopwatch.StartNew();
        long to = WaitForStep(run, from + steps, run.Processes, TimeSpan.FromMinutes(10), cancellationToken);
        double rate = (to - from) * (double)batch / watch.Elapsed.TotalSeconds;
        return (rate, Split(run));
    }

    /// <summary>
    /// Both workers split by speed, the fast one with <c>--update-on device</c> and the slow one with <c>--update-on host</c>:
    /// samples/s over the timed steps, the split, and the placement each worker logged when it built its replica.
    /// </summary>
    private static (double Rate, string Split, string Placements) MixedPhase(string runDir, string data, string secret, CpuQuotaGroup group, int batch, int steps,
        CancellationToken cancellationToken)
    {
        using var run = StartRun(runDir, data, secret, group, true, true, "speed", batch, fastUpdate: "device", slowUpdate: "host");
        long from = WaitForStep(run, WarmupSteps, run.Processes, TimeSpan.FromMinutes(5), cancellationToken);
        var watch = Stopwatch.StartNew();
        long to = WaitForStep(run, from + steps, run.Processes, TimeSpan.FromMinutes(10), cancellationToken);
        double rate = (to - from) * (double)batch / watch.Elapsed.TotalSeconds;
        string Placement(string id)
        {
            // WorkerEngine logs "Worker ID: ... update on the device|host, host buffers ..." once its replica is built.
            var line = run.Log(id).FirstOrDefault(l => l.Contains("update on the ", StringComparison.Ordinal));
            if (line == null) throw new FaceClusterException($"bench hetero: the {id} worker never logged where it updates; the mixed phase cannot be shown to have run");
            int at = line.IndexOf("update on the ", StringComparison.Ordinal) + "update on the ".Length;
            return line[at..].Split(',')[0];
        }
        return (rate, Split(run), $"updates: fast on the {Placement("fast")}, slow on the {Placement("slow")} (from their logs)");
    }

    /// <summary>The fast worker alone in one run and the slow one alone in another, at the same time: samples/s of each over one window.</summary>
    private static (double Fast, double Slow) SideBySide(string fastRunDir, string slowRunDir, string data, string secret, CpuQuotaGroup group, int batch, TimeSpan window,
        CancellationToken cancellationToken)
    {
        using var fast = StartRun(fastRunDir, data, secret, group, true, false, "speed", batch);
        using var slow = StartRun(slowRunDir, data, secret, group, false, true, "speed", batch);
        var both = fast.Processes.Concat(slow.Processes).ToList();
        WaitForStep(fast, WarmupSteps, both, TimeSpan.FromMinutes(5), cancellationToken);
        WaitForStep(slow, WarmupSteps, both, TimeSpan.FromMinutes(5), cancellationToken);
        long fast0 = WaitForStep(fast, 0, both, TimeSpan.FromMinutes(1), cancellationToken), slow0 = WaitForStep(slow, 0, both, TimeSpan.FromMinutes(1), cancellationToken);
        var watch = Stopwatch.StartNew();
        if (cancellationToken.WaitHandle.WaitOne(window)) cancellationToken.ThrowIfCancellationRequested();
        long fast1 = WaitForStep(fast, 0, both, TimeSpan.FromMinutes(1), cancellationToken), slow1 = WaitForStep(slow, 0, both, TimeSpan.FromMinutes(1), cancellationToken);
        double seconds = watch.Elapsed.TotalSeconds;
        return ((fast1 - fast0) * (double)batch / seconds, (slow1 - slow0) * (double)batch / seconds);
    }

    /// <summary>A coordinator process and the chosen workers (the slow one in the cgroup); disposing kills them all.</summary>
    private static BenchRun StartRun(string runDir, string data, string secret, CpuQuotaGroup group, bool fast, bool slow, string balance, int batch,
        string fastUpdate = "auto", string slowUpdate = "auto")
    {
        int bind = FreePort(), http = FreePort();
        int workers = (fast ? 1 : 0) + (slow ? 1 : 0);
        var run = new BenchRun(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/"), Timeout = TimeSpan.FromSeconds(5) }, runDir);
        try
        {
            run.Processes.Add(Start(null, "coordinator", "--data", data, "--run", runDir, "--bind", $"127.0.0.1:{bind}", "--http", $"127.0.0.1:{http}",
                "--min-workers", workers.ToString(CultureInfo.InvariantCulture), "--cycles", "1", "--steps-per-cycle", "1000000",
                "--batch", batch.ToString(CultureInfo.InvariantCulture), "--secret-file", secret, "--curation", "off", "--balance", balance, "--no-augment"));
            foreach (var (id, slowed) in new[] { ("fast", false), ("slow", true) })
            {
                if (slowed ? !slow : !fast) continue;
                var p = Start(run.LogOf(id), "worker", "--join", $"127.0.0.1:{bind}", "--secret-file", secret, "--threads", "1", "--data", data, "--id", id, "--bind", "127.0.0.1",
                    "--update-on", slowed ? slowUpdate : fastUpdate, "--overlap", s_overlap, "--log-level", "information");
                run.Processes.Add(p);
                if (slowed) group.Add(p.Id);
            }
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    private sealed class BenchRun(HttpClient http, string runDir) : IDisposable
    {
        public HttpClient Http { get; } = http;

        /// <summary>
        /// /api/status with the run's API token (RUNDIR/api.token, written by the coordinator as it starts): the API
        /// answers nobody without credentials. Before the token exists, a refusal that the callers retry.
        /// </summary>
        public string Status()
        {
            if (Http.DefaultRequestHeaders.Authorization is null)
            {
                string file = Path.Combine(runDir, FaceCluster.Coordinator.Http.ApiToken.FileName);
                string token;
                try { token = FaceCluster.Coordinator.Http.ApiToken.Read(file); }
                catch (FaceClusterException e) { throw new HttpRequestException(e.Message); } // not written yet: the caller retries
                Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }
            return Http.GetStringAsync("api/status").GetAwaiter().GetResult();
        }
        public List<Process> Processes { get; } = [];
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentQueue<string>> _logs = new();

        /// <summary>Where a worker's output lines go (kept to the first 2,000: the bench reads its start-up lines).</summary>
        public System.Collections.Concurrent.ConcurrentQueue<string> LogOf(string id) => _logs.GetOrAdd(id, _ => new());

        public IEnumerable<string> Log(string id) => _logs.TryGetValue(id, out var q) ? q : [];

        public void Dispose()
        {
            foreach (var p in Processes)
            {
                try { if (!p.HasExited) p.Kill(entireProcessTree: true); p.WaitForExit(10_000); }
                catch (InvalidOperationException) { }
                p.Dispose();
            }
            Http.Dispose();
        }
    }

    private static long WaitForStep(BenchRun run, long step, List<Process> processes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (processes.FirstOrDefault(p => p.HasExited) is { } gone)
                throw new FaceClusterException($"a benchmark process ({gone.StartInfo.ArgumentList.Skip(1).FirstOrDefault()}) exited with code {gone.ExitCode} before step {step}");
            try
            {
                using var doc = JsonDocument.Parse(run.Status());
                long now = doc.RootElement.GetProperty("step").GetInt64();
                if (now >= step) return now;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException) { }
            Thread.Sleep(50);
        }
        throw new FaceClusterException($"the run did not reach step {step} within {timeout.TotalMinutes} minutes");
    }

    /// <summary>Each worker's local batch and calibrated samples/s, as the coordinator planned them.</summary>
    private static string Split(BenchRun run)
    {
        try
        {
            using var doc = JsonDocument.Parse(run.Status());
            return "batches " + string.Join(", ", doc.RootElement.GetProperty("workers").EnumerateArray().Select(w => string.Create(CultureInfo.InvariantCulture,
                $"{w.GetProperty("id").GetString()} {w.GetProperty("batch").GetInt32()} ({w.GetProperty("samplesPerSecond").GetDouble():F0}/s)")));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "";
        }
    }

    private static Process Start(System.Collections.Concurrent.ConcurrentQueue<string>? log, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(BenchHeteroCommand).Assembly.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        var p = Process.Start(info) ?? throw new FaceClusterException("cannot start " + info.FileName);
        void Keep(string? line)
        {
            if (log != null && line != null && log.Count < 2000) log.Enqueue(line);
        }
        p.OutputDataReceived += (_, e) => Keep(e.Data);
        p.ErrorDataReceived += (_, e) => Keep(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
