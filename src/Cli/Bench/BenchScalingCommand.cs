using FaceCluster.Common.IO;
using System.Diagnostics;
using FaceCluster.Cli.Hosts;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Randomness;
using FaceCluster.Synth;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// `facecluster bench scaling`: samples/s of an embedded run with N CPU workers of one libtorch thread each,
/// against one worker of one thread, on the same face set and model, in the same invocation. Each worker adds a
/// core; the all-reduce over the data plane is the price. Two figures: weak scaling, where each worker keeps the
/// one worker's batch (the global batch grows with N: how data-parallel trainers such as Horovod and PyTorch DDP
/// report scaling), and strong scaling, where the global batch stays and each worker gets 1/N of it (smaller
/// local batches also compute less efficiently per sample). Target: 2 workers ≥ 1.8× one.
/// <para>
/// A third figure is the host's ceiling: N independent one-thread training loops (each its own replica, no data
/// plane, no coordinator, no loader) against one, on the same cores. What N workers can reach is bounded by it; on a
/// host whose cores slow each other down (shared caches, memory bandwidth, a hypervisor) it is below N.
/// </para>
/// <para>
/// The peer: PyTorch DistributedDataParallel (gloo, CPU, Debian's python3-torch) on the same layout (same parameter
/// count, asserted), batch, one thread per process and steps, in alternating rounds ( <see cref="DdpPeer"/>);
/// FaceCluster's weak scaling is divided by the peer's. Without python3-torch the bench says so and goes on.
/// </para>
/// </summary>
internal static class BenchScalingCommand
{
    private static readonly Option<int> Workers = new("--workers") { Description = "Workers of the scaled run (each one libtorch thread).", DefaultValueFactory = _ => 2 };
    private static readonly Option<int> Steps = new("--steps") { Description = "Steps timed per run (after 20 warm-up steps).", DefaultValueFactory = _ => 150 };
    private static readonly Option<int> Batch = new("--batch") { Description = "The one worker's batch per step (weak scaling: every worker's; strong scaling: the global batch).", DefaultValueFactory = _ => 32 };
    private static readonly Option<bool> Augment = new("--augment") { Description = "Train with faceswap's augmentation (the loaders then take CPU from the same cores)." };
    private static readonly Option<int> Rounds = new("--rounds") { Description = "Rounds of (1 worker, N workers weak, N workers strong), one after the other; the ratios printed are the medians of the rounds'.", DefaultValueFactory = _ => 3 };
    private static readonly Option<string?> Data = new("--data") { Description = "Face-set folder (default: a generated one of 8 identities x 60)." };
    private static readonly Option<bool> NoPeer = new("--no-peer") { Description = "Skip the PyTorch DDP peer." };
    private static readonly Option<string> LogLevel = new("--log-level") { Description = "error, warning, information or debug.", DefaultValueFactory = _ => "warning" };

    private const int WarmupSteps = 20;

    public static Command Create()
    {
        return CliCommands.Define("scaling", "Samples/s with N one-thread CPU workers against one one-thread worker, in the same run.", Run,
            Workers, Steps, Rounds, Batch, Augment, Data, NoPeer, LogLevel);
    }

    private static int Run(ParseResult parse)
    {
        var o = parse.InvocationConfiguration.Output;
        var inv = CultureInfo.InvariantCulture;
        int workers = parse.GetValue(Workers), steps = parse.GetValue(Steps), batch = parse.GetValue(Batch), rounds = parse.GetValue(Rounds);
        if (rounds < 1) throw new FaceClusterException($"--rounds must be at least 1, got {rounds}", ExitCodes.UsageError);
        if (workers < 2) throw new FaceClusterException($"--workers must be at least 2, got {workers}", ExitCodes.UsageError);
        if (steps < 1) throw new FaceClusterException($"--steps must be at least 1, got {steps}", ExitCodes.UsageError);
        if (batch < workers) throw new FaceClusterException($"--batch {batch} is smaller than --workers {workers}", ExitCodes.UsageError);
        using var temp = new ScratchFolder("scaling");
        string data = parse.GetValue(Data) ?? temp.Combine("faces");
        if (parse.GetValue(Data) == null)
            SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 8, PerIdentity = 60, Size = 64, Seed = 3 });
        bool augment = parse.GetValue(Augment);
        o.WriteLine(string.Create(inv, $"bench scaling: tiny autoencoder, batch {batch}, {steps} steps timed after {WarmupSteps} warm-up, {(augment ? "with" : "without")} augmentation, {rounds} round(s), {Environment.ProcessorCount} cores"));
        if (workers > Environment.ProcessorCount)
            o.WriteLine(string.Create(inv, $"  note: {workers} one-thread workers on {Environment.ProcessorCount} cores share cores; the ratio will show it"));

        using var loggerFactory = CliLogging.Create(parse);
        int runs = 0;
        double Measure(int n, int globalBatch, int timedSteps, string overlap = "auto")
        {
            var clock = new StepClock(WarmupSteps);
            var options = new TrainRunOptions
            {
                DataDir = data, RunDir = temp.Combine($"run-{++runs}"), Workers = n, Augment = augment, Threads = 1, Cycles = 1, StepsPerCycle = WarmupSteps + timedSteps,
                GlobalBatch = globalBatch, KeepCheckpoints = 1, Overlap = overlap, Curation = FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions.Default with { Mode = FaceCluster.Coordinator.Ledger.Curation.CurationMode.Off },
            };
            EmbeddedTrainingRun.RunAsync(options, clock, loggerFactory, CancellationToken.None).GetAwaiter().GetResult();
            return clock.SamplesPerSecond(globalBatch);
        }

        // An untimed short run first: the first training in a fresh process runs faster than later ones, which
        // would flatter whichever configuration goes first.
        Measure(1, batch, 1);
        // The configurations alternate round by round, so that drift in the machine's speed (a shared host: the same
        // one-thread loop varies by a fifth from minute to minute) hits all of them alike; the medians are reported.
        var weakRatios = new List<double>();
        var overlapRatios = new List<double>();
        bool autoOverlap = StepOverlap.Resolve("auto", TorchSharp.torch.CPU, 1, workers);
        var strongRatios = new List<double>();
        var ceilingRatios = new List<double>();
        var labels = Directory.GetDirectories(data).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).DefaultIfEmpty("face").ToArray();
        var peerRatios = new List<double>();
        var relativeRatios = new List<double>();
        var absoluteRatios = new List<double>();
        DdpPeer? peer = null;
        if (!parse.GetValue(NoPeer))
        {
            peer = DdpPeer.Prepare(temp.Path, ModelPreset.Tiny, labels.Length, out string? whyNot);
            if (peer == null) o.WriteLine($"  peer: PyTorch DDP cannot run here: {whyNot}; FaceCluster's figures only");
            else
            {
                long ours;
                using (var model = FaceModelFactory.Create(ModelKind.Autoencoder, ModelPreset.Tiny, labels, 1))
                using (var trainer = new ReplicaTrainer(model, TorchSharp.torch.CPU, TrainerOptions.For(ModelPreset.Tiny)))
                    ours = trainer.ParameterCount;
                long theirs = peer.Measure(1, batch, 1, 0).Parameters;
                if (theirs != ours)
                {
                    o.WriteLine(string.Create(inv, $"  peer: its model has {theirs:N0} parameters, FaceCluster's {ours:N0}: not the same layout, no peer figures"));
                    peer = null;
                }
                else o.WriteLine(string.Create(inv, $"  peer: PyTorch DDP (gloo, CPU), the same layout ({ours:N0} parameters, {labels.Length} decoders), batch {batch} per process, one thread each"));
            }
        }
        for (int round = 1; round <= rounds; round++)
        {
            int loopSteps = Math.Min(steps, 60);
            double loopOne = IndependentLoops(1, batch, loopSteps, labels);
            double loopMany = IndependentLoops(workers, batch, loopSteps, labels);
            ceilingRatios.Add(loopMany / loopOne);
            o.WriteLine(string.Create(inv, $"  round {round}: host ceiling: {workers} independent one-thread loops {loopMany,7:F1} samples/s against one {loopOne,7:F1}: {loopMany / loopOne:F2}x"));
            double one = Measure(1, batch, steps);
            // The weak run both ways, in alternating order round by round; the figure reported is the one --overlap auto picks here.
            double overlapOn, overlapOff;
            if (round % 2 == 1) { overlapOn = Measure(workers, batch * workers, steps, "on"); overlapOff = Measure(workers, batch * workers, steps, "off"); }
            else { overlapOff = Measure(workers, batch * workers, steps, "off"); overlapOn = Measure(workers, batch * workers, steps, "on"); }
            double weak = autoOverlap ? overlapOn : overlapOff;
            overlapRatios.Add(overlapOn / overlapOff);
            double strong = Measure(workers, batch, steps);
            weakRatios.Add(weak / one);
            strongRatios.Add(strong / one);
            o.WriteLine(string.Create(inv, $"  round {round}: 1 worker {one,7:F1} samples/s (batch {batch}); {workers} workers {weak,7:F1} (batch {batch} each, global {batch * workers}; --overlap auto: {(autoOverlap ? "on" : "off")}) and {strong,7:F1} (global batch {batch}, about {batch / workers} each): {weak / one:F2}x weak, {strong / one:F2}x strong; weak with --overlap on {overlapOn,7:F1}, off {overlapOff,7:F1}: on / off {overlapOn / overlapOff:F2}"));
            if (peer != null)
            {
                double peerOne = peer.Measure(1, batch, steps, WarmupSteps).SamplesPerSecond;
                double peerMany = peer.Measure(workers, batch, steps, WarmupSteps).SamplesPerSecond;
                peerRatios.Add(peerMany / peerOne);
                relativeRatios.Add(weak / one / (peerMany / peerOne));
                absoluteRatios.Add(weak / peerMany);
                o.WriteLine(string.Create(inv, $"  round {round}: peer PyTorch DDP: 1 process {peerOne,7:F1} samples/s; {workers} processes {peerMany,7:F1}: {peerMany / peerOne:F2}x weak; FaceCluster / peer {weak / one / (peerMany / peerOne):F2}"));
            }
        }
        double Median(List<double> x) => x.Order().ElementAt(x.Count / 2);
        string Spread(List<double> x) => x.Count > 1 ? string.Create(inv, $", rounds {x.Min():F2}..{x.Max():F2}") : "";
        double weakMedian = Median(weakRatios), strongMedian = Median(strongRatios), ceiling = Median(ceilingRatios);
        o.WriteLine(string.Create(inv, $"host ceiling {workers} independent loops / 1: {ceiling:F2}x (median of {rounds} round(s){Spread(ceilingRatios)}; no data plane, coordinator or loader)"));
        o.WriteLine(string.Create(inv, $"scaling {workers} workers / 1 worker: {weakMedian:F2}x (weak scaling, median of {rounds} round(s){Spread(weakRatios)}; ideal {workers}x, efficiency {weakMedian / workers:P0}, {weakMedian / ceiling:P0} of the host ceiling)"));
        if (peerRatios.Count > 0)
        {
            o.WriteLine(string.Create(inv, $"peer PyTorch DDP {workers} processes / 1: {Median(peerRatios):F2}x (weak scaling, median of {rounds} round(s){Spread(peerRatios)}; {Median(peerRatios) / ceiling:P0} of the host ceiling)"));
            o.WriteLine(string.Create(inv, $"FaceCluster weak scaling / peer's: {Median(relativeRatios):F2} (median of the rounds' ratios{Spread(relativeRatios)}; target >= 1.00)"));
            o.WriteLine(string.Create(inv, $"samples/s, FaceCluster {workers} workers / peer {workers} processes: {Median(absoluteRatios):F2} (median{Spread(absoluteRatios)})"));
        }
        o.WriteLine(string.Create(inv, $"--overlap on / off ({workers} workers, weak): {Median(overlapRatios):F2}x (buckets reduced while backward runs against after it, median of {rounds} round(s){Spread(overlapRatios)}; auto picks {(autoOverlap ? "on" : "off")} here)"));
        o.WriteLine(string.Create(inv, $"strong scaling {workers} workers / 1 worker: {strongMedian:F2}x (the same global batch split {workers} ways, median of {rounds} round(s){Spread(strongRatios)})"));
        return ExitCodes.Ok;
    }

    /// <summary>
    /// <paramref name="n"/> threads, each training its own tiny-autoencoder replica with one libtorch thread on a fixed
    /// random batch (forward, backward and the update, as a worker's step without its loader, all-reduce and reports),
    /// started together; samples/s summed over the threads.
    /// </summary>
    private static double IndependentLoops(int n, int batch, int steps, string[] labels)
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreads(1);
        const int Warmup = 3;
        using var start = new Barrier(n);
        var rates = new double[n];
        var threads = Enumerable.Range(0, n).Select(i => new Thread(() =>
        {
            using var model = FaceModelFactory.Create(ModelKind.Autoencoder, ModelPreset.Tiny, labels, (ulong)(i + 1));
            using var trainer = new ReplicaTrainer(model, TorchSharp.torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
            int size = ModelPreset.Tiny.ImageSize;
            var rng = new DeterministicRng((ulong)(100 + i));
            var pixels = new float[batch * 3 * size * size];
            for (int k = 0; k < pixels.Length; k++) pixels[k] = (float)rng.NextDouble();
            var input = new TrainBatch(batch, size, Enumerable.Range(0, batch).ToArray(), Enumerable.Range(0, batch).Select(k => (long)(k % labels.Length)).ToArray(), pixels, pixels);
            for (int k = 0; k < Warmup; k++) { trainer.ComputeGradients(input, batch); trainer.ApplyUpdate(); }
            start.SignalAndWait();
            var watch = Stopwatch.StartNew();
            for (int k = 0; k < steps; k++) { trainer.ComputeGradients(input, batch); trainer.ApplyUpdate(); }
            rates[i] = steps * (double)batch / watch.Elapsed.TotalSeconds;
        }) { IsBackground = true, Name = $"bench-loop-{i}" }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return rates.Sum();
    }
}
