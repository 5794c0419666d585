using FaceCluster.Cli.Hosts;

namespace FaceCluster.Cli.Commands;

/// <summary>
/// `facecluster coordinator`: the coordinator node of a multi-host run (no local workers): the coordinator singleton,
/// the ledger, checkpoints and the HTTP API. Workers join with `facecluster worker --join HOST:PORT`.
/// </summary>
internal static class CoordinatorCommand
{
    private static readonly Option<string> Bind = new("--bind") { Description = "HOST:PORT the cluster node listens on (workers --join it; 0.0.0.0 for every interface).", DefaultValueFactory = _ => ClusterCoordinatorOptions.DefaultBind };
    private static readonly Option<string?> Http = new("--http")
    {
        Description = $"HOST:PORT of the HTTP API (status, ledger, faces for workers without the data folder, /metrics); default: the --bind host, port {Coordinator.Http.CoordinatorHttpOptions.DefaultPort} (workers fetch faces there).",
    };
    private static readonly Option<string?> PublicHost = new("--public-host") { Description = "The name or address workers use to reach this machine (default: the --bind address)." };
    private static readonly Option<string?> TlsCert = new("--tls-cert")
    {
        Description = "Serve the HTTP API over HTTPS with this certificate and its key (one PEM file, or a .pfx/.p12 without password); workers use the https URL the coordinator advertises (give them --tls-ca for a private CA).",
    };
    private static readonly Option<int> MinWorkers = new("--min-workers") { Description = "Workers needed before the first step; later, training goes on with whoever is left.", DefaultValueFactory = _ => 1 };

    public static Command Create()
    {
        Option[] train =
        [
            TrainOptionsBinding.Data, TrainOptionsBinding.RunDir, TrainOptionsBinding.Cycles, TrainOptionsBinding.StepsPerCycle, TrainOptionsBinding.Batch,
            TrainOptionsBinding.Preset, TrainOptionsBinding.Model, TrainOptionsBinding.Seed, TrainOptionsBinding.LearningRate, TrainOptionsBinding.Ssim,
            TrainOptionsBinding.NoAugment, TrainOptionsBinding.Resume, TrainOptionsBinding.Accumulate, TrainOptionsBinding.Wire, TrainOptionsBinding.InitEncoder, TrainOptionsBinding.InitDecoder,
            TrainOptionsBinding.MinImages, TrainOptionsBinding.ValFraction, TrainOptionsBinding.MaxMegapixels, TrainOptionsBinding.KeepCheckpoints, TrainOptionsBinding.SecretFile,
            TrainOptionsBinding.Curation, TrainOptionsBinding.PruneAction, TrainOptionsBinding.WarmupSteps, TrainOptionsBinding.ProbeEvery, TrainOptionsBinding.FacePrior, TrainOptionsBinding.LatentOutliers, TrainOptionsBinding.NoTexturePrior, TrainOptionsBinding.MaxPrune, TrainOptionsBinding.Balance,
            TrainOptionsBinding.LogLevel,
        ];
        return CliCommands.Define("coordinator", "Run the coordinator of a multi-host run: workers on other machines join it with `facecluster worker --join`.",
            Run, [.. train, Bind, Http, PublicHost, MinWorkers, TrainOptionsBinding.Insecure, TlsCert, TrainOptionsBinding.StayUp]);
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var run = TrainOptionsBinding.Bind(parse) with { StayUp = parse.GetValue(TrainOptionsBinding.StayUp) };
        var options = new ClusterCoordinatorOptions(run, parse.GetValue(Bind)!, parse.GetValue(Http), parse.GetValue(PublicHost), parse.GetValue(MinWorkers),
            parse.GetValue(TrainOptionsBinding.Insecure), parse.GetValue(TlsCert));
        using var loggerFactory = CliLogging.Create(parse);
        using var signals = new CliSignals();
        var progress = TrainProgress.ForConsole(output);
        output.WriteLine($"Coordinator: {run.Model} ({run.Preset}) on {run.DataDir}, {run.TotalSteps} steps, global batch {run.GlobalBatch}; run folder {Path.GetFullPath(run.RunDir)}");
        var result = ClusterCoordinatorRun.RunAsync(options, progress, line => { output.WriteLine(line); output.Flush(); }, loggerFactory, signals.Token).GetAwaiter().GetResult();
        output.WriteLine(result.Stopped
            ? $"Stopped at step {result.Step}. Last checkpoint: {result.LastCheckpoint ?? "none"} (continue with --resume)"
            : $"Done: step {result.Step}. Last checkpoint: {result.LastCheckpoint ?? "none"}");
        return result.Stopped ? ExitCodes.Interrupted : ExitCodes.Ok;
    }
}
