using System.CommandLine;
using System.Globalization;
using FaceCluster.Common.Errors;
using FaceCluster.Common.FaceSet.Synth;
using FaceCluster.Coordinator.Runs;

namespace FaceCluster.Coordinator.Cli.Bench;

/// <summary>
/// `facecluster bench scaling`: samples/s of an embedded run with N CPU workers of one libtorch thread each,
/// against one worker of one thread, on the same face set, model and global batch, in the same invocation. Each
/// worker adds a core; the all-reduce over the data plane is the price. Target: 2 workers ≥ 1.8× one.
/// </summary>
internal static class BenchScalingCommand
{
    private static readonly Option<int> Workers = new("--workers") { Description = "Workers of the scaled run (each one libtorch thread).", DefaultValueFactory = _ => 2 };
    private static readonly Option<int> Steps = new("--steps") { Description = "Steps timed per run (after 20 warm-up steps).", DefaultValueFactory = _ => 150 };
    private static readonly Option<int> Batch = new("--batch") { Description = "Global batch per step.", DefaultValueFactory = _ => 32 };
    private static readonly Option<string?> Data = new("--data") { Description = "Face-set folder (default: a generated one of 8 identities x 60)." };
    private static readonly Option<string> LogLevel = new("--log-level") { Description = "error, warning, information or debug.", DefaultValueFactory = _ => "warning" };

    private const int WarmupSteps = 20;

    public static Command Create()
    {
        var command = new Command("scaling", "Samples/s with N one-thread CPU workers against one one-thread worker, in the same run.");
        foreach (var o in new Option[] { Workers, Steps, Batch, Data, LogLevel }) command.Options.Add(o);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        var o = parse.InvocationConfiguration.Output;
        var inv = CultureInfo.InvariantCulture;
        int workers = parse.GetValue(Workers), steps = parse.GetValue(Steps), batch = parse.GetValue(Batch);
        if (workers < 2) throw new FaceClusterException($"--workers must be at least 2, got {workers}", ExitCodes.UsageError);
        if (steps < 1) throw new FaceClusterException($"--steps must be at least 1, got {steps}", ExitCodes.UsageError);
        if (batch < workers) throw new FaceClusterException($"--batch {batch} is smaller than --workers {workers}", ExitCodes.UsageError);
        using var temp = new BenchTempFolder("scaling");
        string data = parse.GetValue(Data) ?? temp.Combine("faces");
        if (parse.GetValue(Data) == null)
            SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 8, PerIdentity = 60, Size = 64, Seed = 3 });
        o.WriteLine(string.Create(inv, $"bench scaling: tiny autoencoder, global batch {batch}, {steps} steps timed after {WarmupSteps} warm-up, {Environment.ProcessorCount} cores"));
        if (workers > Environment.ProcessorCount)
            o.WriteLine(string.Create(inv, $"  note: {workers} one-thread workers on {Environment.ProcessorCount} cores share cores; the ratio will show it"));

        using var loggerFactory = CliLogging.Create(parse);
        double Measure(int n, bool augment)
        {
            var clock = new StepClock(WarmupSteps);
            var options = new TrainRunOptions
            {
                DataDir = data, RunDir = temp.Combine($"run-{n}-{augment}"), Workers = n, Augment = augment, Threads = 1, Cycles = 1, StepsPerCycle = WarmupSteps + steps,
                GlobalBatch = batch, KeepCheckpoints = 1, Curation = Ledger.CurationPolicyOptions.Default with { Mode = Ledger.CurationMode.Off },
            };
            EmbeddedTrainingRun.RunAsync(options, clock, loggerFactory, CancellationToken.None).GetAwaiter().GetResult();
            return clock.SamplesPerSecond(batch);
        }

        // Without augmentation each worker's work is its compute, and the figure is the cost of the all-reduce and
        // coordination. With faceswap's augmentation the loaders take CPU from the same cores: one worker leaves a
        // core for its loader, two do not, which a machine with a core per worker (or a GPU) would not see.
        double one = Measure(1, augment: false);
        o.WriteLine(string.Create(inv, $"  1 worker  x 1 thread: {one,8:F1} samples/s"));
        double many = Measure(workers, augment: false);
        o.WriteLine(string.Create(inv, $"  {workers} workers x 1 thread: {many,8:F1} samples/s"));
        o.WriteLine(string.Create(inv, $"scaling {workers} workers / 1 worker: {many / one:F2}x (ideal {workers}x; efficiency {many / one / workers:P0}; no augmentation)"));
        double oneAugmented = Measure(1, augment: true);
        double manyAugmented = Measure(workers, augment: true);
        o.WriteLine(string.Create(inv, $"  with augmentation: 1 worker {oneAugmented:F1}, {workers} workers {manyAugmented:F1} samples/s: {manyAugmented / oneAugmented:F2}x (the loaders share the same {Environment.ProcessorCount} cores)"));
        return ExitCodes.Ok;
    }
}
