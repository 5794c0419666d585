using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Store;
using System.Diagnostics;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Common.Randomness;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// `facecluster bench ledger`: the ledger's in-process ingest rate — loss reports in, steps finalized (median,
/// relative losses, per-sample statistics, curves), cycles closed by the curation policy, and everything written to
/// ledger.db by the flush policy, the final flush included — against a plain loop that only copies the same
/// records into an array, measured in the same run; then the latency of a worst-1000 query.
/// </summary>
internal static class BenchLedgerCommand
{
    private static readonly Option<int> Samples = new("--samples") { Description = "Samples in the synthetic face set", DefaultValueFactory = _ => 1_000_000 };
    private static readonly Option<long> Records = new("--records") { Description = "Per-sample loss records to ingest", DefaultValueFactory = _ => 20_000_000 };
    private static readonly Option<int> Batch = new("--batch") { Description = "Records per loss report (one worker's local batch)", DefaultValueFactory = _ => 256 };
    private static readonly Option<int> Workers = new("--workers") { Description = "Reports per step (workers)", DefaultValueFactory = _ => 4 };
    private static readonly Option<int> StepsPerCycle = new("--steps-per-cycle") { Description = "Steps per cycle (each cycle ends with a close: policy, directives, snapshot)", DefaultValueFactory = _ => 250 };
    private static readonly Option<int> Identities = new("--identities") { Description = "Identities in the synthetic face set", DefaultValueFactory = _ => 1000 };
    private static readonly Option<int> Queries = new("--queries") { Description = "Worst-1000 queries to time", DefaultValueFactory = _ => 50 };
    private static readonly Option<string?> Dir = new("--dir") { Description = "Folder for the benchmark's run (default: a temporary folder, deleted afterwards)" };

    public static Command Create()
    {
        return CliCommands.Define("ledger",
            "Ledger ingest rate (records/s, persistence included) against a plain copy of the same records, and worst-1000 query latency.", Run,
            Samples, Records, Batch, Workers, StepsPerCycle, Identities, Queries, Dir);
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        int samples = parse.GetValue(Samples);
        long records = parse.GetValue(Records);
        int batch = parse.GetValue(Batch);
        int workers = parse.GetValue(Workers);
        int stepsPerCycle = parse.GetValue(StepsPerCycle);
        int identities = parse.GetValue(Identities);
        int queries = parse.GetValue(Queries);
        Check(samples is >= 100 and <= 20_000_000, "--samples", samples, "between 100 and 20000000");
        Check(records is >= 1000 and <= 500_000_000, "--records", records, "between 1000 and 500000000");
        Check(batch is >= 1 and <= 65536, "--batch", batch, "between 1 and 65536");
        Check(workers is >= 1 and <= 256, "--workers", workers, "between 1 and 256");
        Check(stepsPerCycle >= 1, "--steps-per-cycle", stepsPerCycle, "at least 1");
        Check(identities >= 1 && identities <= samples, "--identities", identities, $"between 1 and --samples ({samples})");
        Check(queries is >= 1 and <= 100_000, "--queries", queries, "between 1 and 100000");
        string? dirOption = parse.GetValue(Dir);
        string dir = dirOption ?? Path.Combine(Path.GetTempPath(), $"fc-bench-ledger-{Guid.NewGuid():N}");
        if (dirOption != null && Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            throw new FaceClusterException($"--dir {dir} is not empty: give a new or empty folder", ExitCodes.UsageError);

        long reportCount = (records + batch - 1) / batch;
        long stepRecords = (long)batch * workers;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"facecluster bench ledger: {samples:N0} samples in {identities:N0} identities, {records:N0} records in {reportCount:N0} reports of {batch}, " +
            $"{workers} reports a step ({stepRecords:N0} records), a cycle close every {stepsPerCycle} steps ({stepRecords * stepsPerCycle:N0} records)."));
        output.WriteLine($"Host: {Environment.ProcessorCount} logical CPUs. Ledger in {dir}.");

        var clock = Stopwatch.StartNew();
        var reports = MakeReports(samples, records, batch, workers, stepsPerCycle);
        output.WriteLine($"Generated the records in {clock.Elapsed.TotalSeconds:F1} s (not timed below).");

        try
        {
            // Baseline: the same records copied into one array, report by report.
            var ids = new int[records];
            var losses = new float[records];
            double baselineSeconds = double.MaxValue;
            for (int round = 0; round < 3; round++)
            {
                var watch = Stopwatch.StartNew();
                long at = 0;
                foreach (var r in reports)
                {
                    r.SampleIds.CopyTo(ids, at);
                    r.Losses.CopyTo(losses, at);
                    at += r.SampleIds.Length;
                }
                baselineSeconds = Math.Min(baselineSeconds, watch.Elapsed.TotalSeconds);
            }
            GC.KeepAlive(ids);
            GC.KeepAlive(losses);
            double baselineRate = records / baselineSeconds;

            var options = new LedgerOptions(dir) { Policy = CurationPolicyOptions.Default with { WarmupSteps = 0 } };
            var faceSet = new RegisterFaceSet(
                Enumerable.Range(0, identities).Select(g => $"id{g:00000}").ToArray(),
                Enumerable.Range(0, samples).ToArray(),
                Enumerable.Range(0, samples).Select(i => (int)((long)i * identities / samples)).ToArray(),
                Enumerable.Range(0, samples).Select(i => $"id{(long)i * identities / samples:00000}/{i:0000000}.png").ToArray(), "bench");
            clock.Restart();
            using var engine = LedgerEngine.Open(options with { FaceSet = faceSet });
            double registerSeconds = clock.Elapsed.TotalSeconds;

            var writingBefore = engine.Store.Writer.FlushTime;
            long flushesBefore = engine.Store.Writer.Flushes;
            clock.Restart();
            long cycles = 0;
            var closing = new Stopwatch();
            for (int k = 0; k < reports.Length; k++)
            {
                var r = reports[k];
                engine.Ingest(r);
                engine.Tick();
                bool lastOfStep = k + 1 == reports.Length || reports[k + 1].Step != r.Step;
                if (lastOfStep && ((r.Step + 1) % stepsPerCycle == 0 || k + 1 == reports.Length))
                {
                    closing.Start();
                    engine.CloseCycle(new CloseCycle(r.Cycle, r.Step + 1));
                    closing.Stop();
                    cycles++;
                }
            }
            engine.Flush();
            double ingestSeconds = clock.Elapsed.TotalSeconds;
            var writing = engine.Store.Writer.FlushTime - writingBefore;
            long flushes = engine.Store.Writer.Flushes - flushesBefore;
            clock.Restart();
            engine.Snapshot();
            double snapshotSeconds = clock.Elapsed.TotalSeconds;
            var stats = engine.Stats();
            if (stats.Observations != records)
                throw new InvalidOperationException($"the ledger recorded {stats.Observations} observations of {records}");
            double rate = records / ingestSeconds;

            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Registering the face set (first snapshot included): {registerSeconds:F2} s"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Baseline: copy the records into an array:        {baselineRate / 1e6,8:F1} M records/s ({baselineSeconds:F2} s, best of 3)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Ledger: ingest + finalize + {cycles} cycle closes + persistence: {rate / 1e6,8:F2} M records/s ({ingestSeconds:F2} s)  ratio to baseline {rate / baselineRate:F4}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Ledger with a snapshot of the derived state at the end:  {records / (ingestSeconds + snapshotSeconds) / 1e6,8:F2} M records/s (the snapshot: {snapshotSeconds:F2} s; taken every {options.Flush.SnapshotIntervalMs / 1000} s and at shutdown)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  of the ingest: cycle closes (policy, directives, their flush) {closing.Elapsed.TotalSeconds:F2} s; writing ledger.db {writing.TotalSeconds:F2} s in {flushes} transactions; " +
                $"ledger.db {Size(Path.Combine(dir, LedgerStore.FileName))} + WAL {Size(Path.Combine(dir, LedgerStore.FileName + "-wal"))}; " +
                $"{stats.Steps:N0} steps, {stats.Quarantined} quarantined, {stats.Refed} re-fed, {stats.UnflushedRecords} records unflushed"));

            var latencies = new double[queries];
            engine.Handle(new GetWorstSamples(1000, false)); // warm
            for (int q = 0; q < queries; q++)
            {
                var watch = Stopwatch.StartNew();
                var worst = (WorstSamples)engine.Handle(new GetWorstSamples(1000, false));
                latencies[q] = watch.Elapsed.TotalMilliseconds;
                if (worst.Samples.Length != 1000) throw new InvalidOperationException($"worst-1000 returned {worst.Samples.Length}");
            }
            Array.Sort(latencies);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Worst-1000 query over {samples:N0} samples: median {Percentile(latencies, 0.5):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms ({queries} queries)"));
            output.WriteLine();
            output.WriteLine("Target: >= 1.00 M records/s on this 2-core machine, persistence included.");
            return ExitCodes.Ok;
        }
        finally
        {
            if (dirOption == null)
            {
                try { Directory.Delete(dir, recursive: true); }
                catch (IOException) { }
            }
        }
    }

    /// <summary>Epoch-shuffled sample ids (every sample once per epoch) with lognormal losses that fall over the run; 1% of the samples are three times harder.</summary>
    private static LossReport[] MakeReports(int samples, long records, int batch, int workers, int stepsPerCycle)
    {
        var rng = new DeterministicRng(42);
        var order = Enumerable.Range(0, samples).ToArray();
        int position = samples;
        long reportCount = (records + batch - 1) / batch;
        var reports = new LossReport[reportCount];
        long done = 0;
        for (long k = 0; k < reportCount; k++)
        {
            int n = (int)Math.Min(batch, records - done);
            var ids = new int[n];
            var losses = new float[n];
            long step = k / workers;
            double scale = 0.2 * Math.Pow(10, -(double)step * batch * workers / records);
            for (int i = 0; i < n; i++)
            {
                if (position == samples) { rng.Shuffle(order.AsSpan()); position = 0; }
                int id = order[position++];
                ids[i] = id;
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                double noise = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                losses[i] = (float)(scale * (id % 100 == 0 ? 3 : 1) * Math.Exp(0.25 * noise));
            }
            reports[k] = new LossReport($"worker-{k % workers + 1}", step / stepsPerCycle, step, workers, ids, losses);
            done += n;
        }
        return reports;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string Size(string path) => File.Exists(path) ? $"{new FileInfo(path).Length / 1e6:F0} MB" : "0 MB";

    private static void Check(bool ok, string flag, object value, string expected)
    {
        if (!ok) throw new FaceClusterException(string.Create(CultureInfo.InvariantCulture, $"{flag} {value} is invalid: it must be {expected}"), ExitCodes.UsageError);
    }
}
