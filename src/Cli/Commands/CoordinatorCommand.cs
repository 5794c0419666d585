using FaceCluster.Coordinator.Ledger.Quarantine;
using System.CommandLine;
using FaceCluster.Cli.Hosts;
using FaceCluster.Common.Errors;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Models;
using FaceCluster.Coordinator.Runs;

namespace FaceCluster.Cli.Commands;

/// <summary>
/// `facecluster coordinator`: the coordinator node of a multi-host run (no local workers): the coordinator singleton,
/// the ledger, checkpoints and the HTTP API. Workers join with `facecluster worker --join HOST:PORT`.
/// </summary>
internal static class CoordinatorCommand
{
    private static readonly Option<string> Bind = new("--bind") { Description = "HOST:PORT the cluster node listens on (workers --join it; 0.0.0.0 for every interface).", DefaultValueFactory = _ => ClusterCoordinatorOptions.DefaultBind };
    private static readonly Option<string> Http = new("--http") { Description = "HOST:PORT of the HTTP API (status, ledger, faces for workers without the data folder, /metrics).", DefaultValueFactory = _ => ClusterCoordinatorOptions.DefaultHttp };
    private static readonly Option<string?> PublicHost = new("--public-host") { Description = "The name or address workers use to reach this machine (default: the --bind address)." };
    private static readonly Option<int> MinWorkers = new("--min-workers") { Description = "Workers needed before the first step; later, training goes on with whoever is left.", DefaultValueFactory = _ => 1 };

    public static Command Create()
    {
        var command = new Command("coordinator", "Run the coordinator of a multi-host run: workers on other machines join it with `facecluster worker --join`.");
        Option[] train =
        [
            TrainOptionsBinding.Data, TrainOptionsBinding.RunDir, TrainOptionsBinding.Cycles, TrainOptionsBinding.StepsPerCycle, TrainOptionsBinding.Batch,
            TrainOptionsBinding.Preset, TrainOptionsBinding.Model, TrainOptionsBinding.Seed, TrainOptionsBinding.LearningRate, TrainOptionsBinding.Ssim,
            TrainOptionsBinding.NoAugment, TrainOptionsBinding.Resume, TrainOptionsBinding.InitEncoder, TrainOptionsBinding.InitDecoder,
            TrainOptionsBinding.MinImages, TrainOptionsBinding.ValFraction, TrainOptionsBinding.KeepCheckpoints, TrainOptionsBinding.SecretFile,
            TrainOptionsBinding.Curation, TrainOptionsBinding.PruneAction, TrainOptionsBinding.WarmupSteps, TrainOptionsBinding.ProbeEvery, TrainOptionsBinding.MaxPrune, TrainOptionsBinding.Balance,
            TrainOptionsBinding.LogLevel,
        ];
        foreach (var option in train) command.Options.Add(option);
        command.Options.Add(Bind);
        command.Options.Add(Http);
        command.Options.Add(PublicHost);
        command.Options.Add(MinWorkers);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var run = BindRun(parse);
        var options = new ClusterCoordinatorOptions(run, parse.GetValue(Bind)!, parse.GetValue(Http)!, parse.GetValue(PublicHost), parse.GetValue(MinWorkers));
        using var loggerFactory = CliLogging.Create(parse);
        using var signals = new CliSignals();
        var progress = TrainProgress.ForConsole(output);
        output.WriteLine($"Coordinator: {run.Model} ({run.Preset}) on {run.DataDir}, {run.TotalSteps} steps, global batch {run.GlobalBatch}; run folder {Path.GetFullPath(run.RunDir)}");
        var result = ClusterCoordinatorRun.RunAsync(options, progress, line => { output.WriteLine(line); output.Flush(); }, loggerFactory, signals.Token).GetAwaiter().GetResult();
        foreach (var w in result.Warnings) output.WriteLine("warning: " + w);
        output.WriteLine(result.Stopped
            ? $"Stopped at step {result.Step}. Last checkpoint: {result.LastCheckpoint ?? "none"} (continue with --resume)"
            : $"Done: step {result.Step}. Last checkpoint: {result.LastCheckpoint ?? "none"}");
        return result.Stopped ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    /// <summary>The run options `train` also has (the worker-side ones — devices, threads, batch cap — belong to `facecluster worker`).</summary>
    private static TrainRunOptions BindRun(ParseResult parse)
    {
        string data = parse.GetRequiredValue(TrainOptionsBinding.Data);
        var decoders = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in parse.GetValue(TrainOptionsBinding.InitDecoder) ?? [])
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1)
                throw new FaceClusterException($"--init-decoder '{spec}' is not IDENTITY=PATH", ExitCodes.UsageError);
            decoders[spec[..eq]] = spec[(eq + 1)..];
        }
        double? lr = parse.GetValue(TrainOptionsBinding.LearningRate);
        if (lr is double l && (!(l > 0) || l > 1)) throw new FaceClusterException($"--learning-rate must be in (0, 1], got {l}", ExitCodes.UsageError);
        return new TrainRunOptions
        {
            DataDir = data,
            RunDir = parse.GetValue(TrainOptionsBinding.RunDir) ?? ScanCommand.DefaultRunDir(data),
            Cycles = parse.GetValue(TrainOptionsBinding.Cycles),
            StepsPerCycle = parse.GetValue(TrainOptionsBinding.StepsPerCycle),
            GlobalBatch = parse.GetValue(TrainOptionsBinding.Batch),
            Preset = ModelPreset.Parse(parse.GetValue(TrainOptionsBinding.Preset)!),
            Model = FaceModelFactory.ParseKind(parse.GetValue(TrainOptionsBinding.Model)!),
            Seed = parse.GetValue(TrainOptionsBinding.Seed),
            LearningRate = lr,
            SsimWeight = parse.GetValue(TrainOptionsBinding.Ssim),
            Augment = !parse.GetValue(TrainOptionsBinding.NoAugment),
            Resume = parse.GetValue(TrainOptionsBinding.Resume),
            InitEncoder = parse.GetValue(TrainOptionsBinding.InitEncoder),
            InitDecoders = decoders,
            Scan = new ScanOptions(parse.GetValue(TrainOptionsBinding.MinImages), parse.GetValue(TrainOptionsBinding.ValFraction), ScanOptions.Default.MinSide),
            KeepCheckpoints = parse.GetValue(TrainOptionsBinding.KeepCheckpoints),
            SecretFile = parse.GetValue(TrainOptionsBinding.SecretFile),
            Curation = TrainOptionsBinding.BindCuration(parse),
            EqualBatches = parse.GetValue(TrainOptionsBinding.Balance)!.Trim().ToLowerInvariant() switch
            {
                "speed" => false,
                "equal" => true,
                var other => throw new FaceClusterException($"--balance '{other}' is not a split: use speed or equal", ExitCodes.UsageError),
            },
            PruneAction = parse.GetValue(TrainOptionsBinding.PruneAction)!.Trim().ToLowerInvariant() switch
            {
                "exclude" => QuarantineAction.Exclude,
                "move" => QuarantineAction.Move,
                var other => throw new FaceClusterException($"--prune-action '{other}' is not an action: use exclude or move", ExitCodes.UsageError),
            },
        };
    }
}
