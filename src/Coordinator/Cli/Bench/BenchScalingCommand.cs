using System.CommandLine;
using System.Globalization;
using FaceCluster.Common.Errors;
using FaceCluster.Common.FaceSet.Synth;
using FaceCluster.Coordinator.Runs;

namespace FaceCluster.Coordinator.Cli.Bench;

/// <summary>
/// `facecluster bench scaling`: samples/s of an embedded run with N CPU workers of one libtorch thread each,
/// against one worker of one thread, on the same face set and model, in the same invocation. Each worker adds a
/// core; the all-reduce over the data plane is the price. Two figures: weak scaling, where each worker keeps the
/// one worker's batch (the global batch grows with N: how data-parallel trainers such as Horovod and PyTorch DDP
/// report scaling), and strong scaling, where the global batch stays and each worker gets 1/N of it (smaller
/// local batches also compute less efficiently per sample). Target: 2 workers ≥ 1.8× one.
/// </summary>
internal static class BenchScalingCommand
{
    private static readonly Option<int> Workers = new("--workers") { Description = "Workers of the scaled run (each one libtorch thread).", DefaultValueFactory = _ => 2 };
    private static readonly Option<int> Steps = new("--steps") { Description = "Steps timed per run (after 20 warm-up steps).", DefaultValueFactory = _ => 150 };
    private static readonly Option<int> Batch = new("--batch") { Description = "The one worker's batch per step (weak scaling: every worker's; strong scaling: the global batch).", DefaultValueFactory = _ => 32 };
    private static readonly Option<bool> Augment = new("--augment") { Description = "Train with faceswap's augmentation (the loaders then take CPU from the same cores)." };
    private static readonly Option<string?> Data = new("--data") { Description = "Face-set folder (default: a generated one of 8 identities x 60)." };
    private static readonly Option<string> LogLevel = new("--log-level") { Description = "error, warning, information or debug.", DefaultValueFactory = _ => "warning" };

    private const int WarmupSteps = 20;

    public static Command Create()
    {
        var command = new Command("scaling", "Samples/s with N one-thread CPU workers against one one-thread worker, in the same run.");
        foreach (var o in new Option[] { Workers, Steps, Batch, Augment, Data, LogLevel }) command.Options.Add(o);
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
        bool augment = parse.GetValue(Augment);
        o.WriteLine(string.Create(inv, $"bench scaling: tiny autoencoder, batch {batch}, {steps} steps timed after {WarmupSteps} warm-up, {(augment ? "with" : "without")} augmentation, {Environment.ProcessorCount} cores"));
        if (workers > Environment.ProcessorCount)
            o.WriteLine(string.Create(inv, $"  note: {workers} one-thread workers on {Environment.ProcessorCount} cores share cores; the ratio will show it"));

        using var loggerFactory = CliLogging.Create(parse);
        int runs = 0;
        double Measure(int n, int globalBatch, int timedSteps)
        {
            var clock = new StepClock(WarmupSteps);
            var options = new TrainRunOptions
            {
                DataDir = data, RunDir = temp.Combine($"run-{++runs}"), Workers = n, Augment = augment, Threads = 1, Cycles = 1, StepsPerCycle = WarmupSteps + timedSteps,
                GlobalBatch = globalBatch, KeepCheckpoints = 1, Curation = Ledger.CurationPolicyOptions.Default with { Mode = Ledger.CurationMode.Off },
            };
            EmbeddedTrainingRun.RunAsync(options, clock, loggerFactory, CancellationToken.None).GetAwaiter().GetResult();
            return clock.SamplesPerSecond(globalBatch);
        }

        // An untimed short run first: the first training in a fresh process runs faster than later ones, which
        // would flatter whichever configuration goes first.
        Measure(1, batch, 1);
        double one = Measure(1, batch, steps);
        o.WriteLine(string.Create(inv, $"  1 worker  x 1 thread:  {one,8:F1} samples/s (batch {batch})"));
        double weak = Measure(workers, batch * workers, steps);
        o.WriteLine(string.Create(inv, $"  {workers} workers x 1 thread: {weak,8:F1} samples/s (batch {batch} each, global {batch * workers})"));
        double strong = Measure(workers, batch, steps);
        o.WriteLine(string.Create(inv, $"  {workers} workers x 1 thread: {strong,8:F1} samples/s (global batch {batch}, about {batch / workers} each)"));
        o.WriteLine(string.Create(inv, $"scaling {workers} workers / 1 worker: {weak / one:F2}x (weak scaling; ideal {workers}x, efficiency {weak / one / workers:P0})"));
        o.WriteLine(string.Create(inv, $"strong scaling {workers} workers / 1 worker: {strong / one:F2}x (the same global batch split {workers} ways)"));
        return ExitCodes.Ok;
    }
}
