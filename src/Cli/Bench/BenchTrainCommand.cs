using FaceCluster.Common.IO;
using System.Diagnostics;
using FaceCluster.Cli.Hosts;
using FaceCluster.Common.Models.Previews;
using FaceCluster.Common.Models.Training;
using FaceCluster.Synth;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// `facecluster bench train`: samples/s of FaceCluster's training step — one worker of an embedded run, with
/// loading, augmentation, the flat-gradient step, loss reports to the coordinator and the ledger — against a plain
/// TorchSharp loop (forward, mean loss, backward, Adam) on the same model, batch size and threads, over images
/// decoded beforehand and batched the same way (shuffled, so every identity's decoder runs each step), in the same
/// run. The two sides alternate for --rounds rounds, so drift in the machine's speed (a shared host) hits both
/// alike; the ratio printed is the median of the rounds' ratios. The plain loop uses torch.optim.Adam, FaceCluster its
/// fused flat Adam (FlatAdam): a ratio above 1 is partly that. With --memory-steps N it also runs N of
/// FaceCluster's replica steps and prints the process's memory at the start and end: it must stay flat.
/// <para>
/// The peer, in the same rounds: PyTorch eager (the machine's python3, one process, no DDP) on the same layout, batch,
/// threads and device, a fixed batch (no loader), parameter count asserted equal. --device cuda runs all three on a GPU.
/// </para>
/// </summary>
internal static class BenchTrainCommand
{
    private static readonly Option<int> Steps = new("--steps") { Description = "Steps measured per side and round (after 20 warm-up steps).", DefaultValueFactory = _ => 150 };
    private static readonly Option<int> Rounds = new("--rounds") { Description = "Rounds of plain loop then FaceCluster; the ratio is their median.", DefaultValueFactory = _ => 3 };
    private static readonly Option<int> Batch = new("--batch") { Description = "Batch per step.", DefaultValueFactory = _ => 32 };
    private static readonly Option<string> Preset = new("--preset") { Description = "tiny, original or large.", DefaultValueFactory = _ => "tiny" };
    private static readonly Option<int> Threads = new("--threads") { Description = "libtorch threads for both sides (0: every core).", DefaultValueFactory = _ => 0 };
    private static readonly Option<string?> Data = new("--data") { Description = "Face-set folder (default: a generated one of 8 identities x 60)." };
    private static readonly Option<int> MemorySteps = new("--memory-steps") { Description = "Also run this many replica steps and print memory at start and end (0: skip).", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> Device = new("--device") { Description = "Where all sides train: cpu (default), cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    private static readonly Option<bool> NoPeer = new("--no-peer") { Description = "Skip the PyTorch eager peer." };
    private static readonly Option<string> LogLevel = new("--log-level") { Description = "error, warning, information or debug.", DefaultValueFactory = _ => "warning" };

    private const int WarmupSteps = 20;

    public static Command Create()
    {
        return CliCommands.Define("train", "Samples/s of FaceCluster's training step (1 worker, loading and loss reporting included) against a plain TorchSharp loop on pre-decoded images, as a ratio; optionally memory over many steps.", Run,
            Steps, Rounds, Batch, Preset, Threads, Data, MemorySteps, Device, NoPeer, LogLevel);
    }

    private static int Run(ParseResult parse)
    {
        var o = parse.InvocationConfiguration.Output;
        var inv = CultureInfo.InvariantCulture;
        int steps = parse.GetValue(Steps), rounds = parse.GetValue(Rounds), batch = parse.GetValue(Batch), threads = parse.GetValue(Threads), memorySteps = parse.GetValue(MemorySteps);
        if (steps < 1) throw new FaceClusterException($"--steps must be at least 1, got {steps}", ExitCodes.UsageError);
        if (rounds < 1) throw new FaceClusterException($"--rounds must be at least 1, got {rounds}", ExitCodes.UsageError);
        if (batch < 1) throw new FaceClusterException($"--batch must be at least 1, got {batch}", ExitCodes.UsageError);
        if (threads < 0) throw new FaceClusterException($"--threads must be 0 (every core) or more, got {threads}", ExitCodes.UsageError);
        if (memorySteps < 0) throw new FaceClusterException($"--memory-steps must be 0 or more, got {memorySteps}", ExitCodes.UsageError);
        var preset = ModelPreset.Parse(parse.GetValue(Preset)!);
        if (threads == 0) threads = Environment.ProcessorCount;
        var spec = DeviceSpec.Parse(parse.GetValue(Device)!);
        if (spec.Kind is not ("cpu" or "cuda")) throw new FaceClusterException($"--device '{spec}': bench train runs on cpu or cuda[:N]", ExitCodes.UsageError);

        using var temp = new ScratchFolder("train");
        string data = parse.GetValue(Data) ?? temp.Combine("faces");
        if (parse.GetValue(Data) == null)
            SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 8, PerIdentity = 60, Size = 64, Seed = 3 });
        TorchRuntime.EnsureLoaded();
        var device = spec.Resolve()[0]; // refuses a CUDA device this build or host does not have, by name
        var manifest = ManifestStore.LoadOrBuild(data, temp.Combine("scan"), ScanOptions.Default).Manifest;
        var labels = manifest.Identities.ToArray();
        o.WriteLine(string.Create(inv, $"bench train: {preset} autoencoder on {spec}, batch {batch}, {threads} libtorch thread(s), {rounds} round(s) of {steps} steps per side after {WarmupSteps} warm-up; {manifest.Samples.Count} images of {labels.Length} identities"));
        DdpPeer? peer = null;
        if (!parse.GetValue(NoPeer))
        {
            peer = DdpPeer.Prepare(temp.Path, preset, labels.Length, out string? whyNot);
            if (peer == null) o.WriteLine($"  peer: PyTorch eager cannot run here: {whyNot}; FaceCluster's figures only");
            else
            {
                long ours;
                using (var model = FaceModelFactory.Create(ModelKind.Autoencoder, preset, labels, 1))
                using (var trainer = new ReplicaTrainer(model, CPU, TrainerOptions.For(preset)))
                    ours = trainer.ParameterCount;
                try
                {
                    long theirs = peer.Measure(1, batch, 1, 0, threads, spec.ToString()).Parameters;
                    if (theirs != ours)
                    {
                        o.WriteLine(string.Create(inv, $"  peer: its model has {theirs:N0} parameters, FaceCluster's {ours:N0}: not the same layout, no peer figures"));
                        peer = null;
                    }
                    else o.WriteLine(string.Create(inv, $"  peer: PyTorch eager ({spec}), the same layout ({ours:N0} parameters), batch {batch}, {threads} thread(s), a fixed batch"));
                }
                catch (FaceClusterException e)
                {
                    o.WriteLine($"  peer: PyTorch eager cannot run here: {e.Message}; FaceCluster's figures only");
                    peer = null;
                }
            }
        }

        // Baseline: plain TorchSharp on images decoded beforehand (no augmentation, no reports, no flat buffer).
        var decoded = Decode(manifest, labels, preset.ImageSize);

        // FaceCluster: an embedded run with one worker, timed from the end of warm-up to the last step. Without
        // augmentation it does the same work as the baseline: the difference is FaceCluster's own cost. With faceswap's
        // augmentation (once, after the rounds) the augmenting loader takes CPU from the same cores.
        using var loggerFactory = CliLogging.Create(parse);
        int runs = 0;
        double Measure(bool augment, int timedSteps)
        {
            var clock = new StepClock(WarmupSteps);
            var options = new TrainRunOptions
            {
                DataDir = data, RunDir = temp.Combine($"run-{++runs}"), Workers = 1, Threads = threads, Cycles = 1, Device = spec,
                StepsPerCycle = WarmupSteps + timedSteps, GlobalBatch = batch, Preset = preset, KeepCheckpoints = 1, Augment = augment,
            };
            EmbeddedTrainingRun.RunAsync(options, clock, loggerFactory, CancellationToken.None).GetAwaiter().GetResult();
            return clock.SamplesPerSecond(batch);
        }
        // One short untimed pass of each side first: the first loop in a fresh process runs measurably faster than
        // later ones (measured: by about a fifth), which would favour whichever side goes first.
        PlainLoop(decoded, labels, preset, batch, threads, 1, device);
        Measure(augment: false, timedSteps: 1);
        var plainRates = new List<double>();
        var ratios = new List<double>();
        var peerRatios = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            double plain = PlainLoop(decoded, labels, preset, batch, threads, steps, device);
            double fc = Measure(augment: false, steps);
            plainRates.Add(plain);
            ratios.Add(fc / plain);
            string peerText = "";
            if (peer != null)
            {
                double eager = peer.Measure(1, batch, steps, WarmupSteps, threads, spec.ToString()).SamplesPerSecond;
                peerRatios.Add(fc / eager);
                peerText = string.Create(inv, $", PyTorch eager {eager,8:F1} samples/s, FaceCluster / PyTorch {fc / eager:F3}");
            }
            o.WriteLine(string.Create(inv, $"  round {round + 1}: plain loop {plain,8:F1} samples/s, FaceCluster {fc,8:F1} samples/s, ratio {fc / plain:F3}{peerText}"));
        }
        // The round whose ratio is the median stands for the run; its two rates are printed below.
        int median = Enumerable.Range(0, rounds).OrderBy(i => ratios[i]).ElementAt(rounds / 2);
        double baseline = plainRates[median];
        double faceCluster = baseline * ratios[median];
        o.WriteLine(string.Create(inv, $"  plain TorchSharp loop:      {baseline,8:F1} samples/s (median round)"));
        o.WriteLine(string.Create(inv, $"  FaceCluster step (1 worker): {faceCluster,8:F1} samples/s (loading through the pipeline and cache, loss reports to the ledger; no augmentation, as the baseline)"));
        double augmented = Measure(augment: true, steps);
        o.WriteLine(string.Create(inv, $"  FaceCluster step, augmented:  {augmented,8:F1} samples/s (faceswap's warp, affine and colour augmentation on the same cores)"));
        o.WriteLine(string.Create(inv, $"ratio FaceCluster / plain loop: {ratios[median]:F3} (median of {rounds} round(s); range {ratios.Min():F3}..{ratios.Max():F3})"));
        o.WriteLine(string.Create(inv, $"ratio with augmentation / plain loop: {augmented / plainRates.Average():F3} (against the rounds' mean plain rate)"));
        if (peerRatios.Count > 0)
            o.WriteLine(string.Create(inv, $"ratio FaceCluster / PyTorch eager: {peerRatios.Order().ElementAt(peerRatios.Count / 2):F3} (median of {rounds} round(s); range {peerRatios.Min():F3}..{peerRatios.Max():F3}; the peer trains on a fixed batch, FaceCluster loads and reports)"));

        if (memorySteps > 0) Memory(o, decoded, labels, preset, batch, threads, memorySteps);
        return ExitCodes.Ok;
    }

    private sealed record Decoded(float[][] Planes, long[] Labels)
    {
        /// <summary>A fixed shuffle: batches mix identities as FaceCluster's sampler does (every identity's decoder runs each step).</summary>
        public int[] Order { get; } = Shuffled(Planes.Length);

        private static int[] Shuffled(int n)
        {
            var order = Enumerable.Range(0, n).ToArray();
            new Random(12345).Shuffle(order);
            return order;
        }
    }

    private static Decoded Decode(FaceManifest manifest, string[] labels, int size)
    {
        var planes = new List<float[]>();
        var ids = new List<long>();
        foreach (var s in manifest.Samples)
        {
            var p = PreviewGrid.LoadPlanes(Path.Combine(manifest.DataRoot, s.RelativePath), size);
            if (p == null) continue;
            planes.Add(p);
            ids.Add(Array.IndexOf(labels, s.Identity));
        }
        if (planes.Count == 0) throw new FaceClusterException($"no readable images in {manifest.DataRoot}");
        return new Decoded(planes.ToArray(), ids.ToArray());
    }

    private static TrainBatch BatchAt(Decoded d, int step, int batch, int size)
    {
        int stride = 3 * size * size;
        var inputs = new float[batch * stride];
        var labels = new long[batch];
        var ids = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            int k = d.Order[(int)(((long)step * batch + i) % d.Order.Length)];
            d.Planes[k].CopyTo(inputs, i * stride);
            labels[i] = d.Labels[k];
            ids[i] = k;
        }
        return new TrainBatch(batch, size, ids, labels, inputs, inputs);
    }

    private static double PlainLoop(Decoded d, string[] labels, ModelPreset preset, int batch, int threads, int steps, Device device)
    {
        TorchRuntime.SetThreads(threads);
        using var model = FaceModelFactory.Create(ModelKind.Autoencoder, preset, labels, 1);
        model.Root.to(device);
        var o = TrainerOptions.For(preset);
        using var optimizer = optim.Adam(model.Root.parameters(), o.LearningRate, o.Beta1, o.Beta2, o.Epsilon);
        int size = preset.ImageSize;
        var watch = new Stopwatch();
        for (int step = 0; step < WarmupSteps + steps; step++)
        {
            if (step == WarmupSteps) watch.Start();
            var b = BatchAt(d, step, batch, size);
            using var scope = NewDisposeScope();
            var x = tensor(b.Inputs, [batch, 3, size, size]).to(device);
            var loss = model.PerSampleLoss(x, x, b.Labels).mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (step == WarmupSteps - 1 || step == WarmupSteps + steps - 1) TorchRuntime.Synchronize(device); // a GPU's queue drained at both ends of the timing
        }
        watch.Stop();
        return (double)steps * batch / watch.Elapsed.TotalSeconds;
    }

    private static void Memory(TextWriter o, Decoded d, string[] labels, ModelPreset preset, int batch, int threads, int steps)
    {
        var inv = CultureInfo.InvariantCulture;
        TorchRuntime.SetThreads(threads);
        using var model = FaceModelFactory.Create(ModelKind.Autoencoder, preset, labels, 1);
        using var trainer = new ReplicaTrainer(model, CPU, TrainerOptions.For(preset));
        long Rss() { GC.Collect(); GC.WaitForPendingFinalizers(); using var p = Process.GetCurrentProcess(); return p.WorkingSet64; }
        long start = 0, tenth = Math.Max(1, steps / 10);
        var marks = new List<string>();
        for (int step = 0; step < steps; step++)
        {
            trainer.ComputeGradients(BatchAt(d, step, batch, preset.ImageSize), batch);
            trainer.ApplyUpdate();
            if (step + 1 == Math.Min(100, steps)) start = Rss();
            if ((step + 1) % tenth == 0) marks.Add(string.Create(inv, $"{step + 1}:{Rss() / 1048576.0:F0}"));
        }
        long end = Rss();
        o.WriteLine(string.Create(inv, $"memory over {steps} replica steps (batch {batch}): {start / 1048576.0:F1} MiB after {Math.Min(100, steps)} steps, {end / 1048576.0:F1} MiB at the end ({(end - start) / 1048576.0:+0.0;-0.0} MiB)"));
        o.WriteLine("  resident MiB by step: " + string.Join(" ", marks));
    }
}
