using FaceCluster.Cli.Hosts;

namespace FaceCluster.Cli.Commands;

/// <summary>
/// `facecluster train`: trains on one machine with an embedded coordinator and local workers — the same
/// actors, ring all-reduce and ledger as a multi-host run, on loopback.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        return CliCommands.Define("train", "Train on this machine: an embedded coordinator and local workers (the same actors as a cluster, on loopback).",
            Run, TrainOptionsBinding.Options());
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var options = TrainOptionsBinding.Bind(parse);
        using var loggerFactory = CliLogging.Create(parse);
        using var signals = new CliSignals();
        var progress = TrainProgress.ForConsole(output);
        output.WriteLine($"Training {options.Model} ({options.Preset}) on {options.DataDir} with {options.Workers} worker(s); run folder {Path.GetFullPath(options.RunDir)}");
        var result = EmbeddedTrainingRun.RunAsync(options, progress, loggerFactory, signals.Token).GetAwaiter().GetResult();
        if (result.Stopped)
        {
            output.WriteLine($"Stopped at step {result.Step}. Last checkpoint: {result.LastCheckpoint ?? "none"} (continue with --resume)");
            return ExitCodes.Interrupted;
        }
        output.WriteLine($"Done: step {result.Step}. Last checkpoint: {result.LastCheckpoint ?? "none"}");
        return ExitCodes.Ok;
    }
}

/// <summary>The options of `train` (and of the demo and benchmarks that reuse them), bound to <see cref="TrainRunOptions"/>.</summary>
internal static class TrainOptionsBinding
{
    public static readonly Option<string> Data = new("--data") { Description = "Face-set folder: one sub-folder of images per identity.", Required = true };
    public static readonly Option<string?> RunDir = new("--run") { Description = "Run folder (manifest, ledger, checkpoints); default ./runs/<name of the data folder>." };
    public static readonly Option<int> Workers = new("--workers") { Description = "Local CPU workers (with --device auto on a GPU host: one per GPU).", DefaultValueFactory = _ => 1 };
    public static readonly Option<int> Cycles = new("--cycles") { Description = "Cycles to train (the ledger curates at the end of each).", DefaultValueFactory = _ => 10 };
    public static readonly Option<int> StepsPerCycle = new("--steps-per-cycle") { Description = "Steps per cycle.", DefaultValueFactory = _ => 50 };
    public static readonly Option<int> Batch = new("--batch") { Description = "Global batch per step, split across workers by their measured speed.", DefaultValueFactory = _ => 32 };
    public static readonly Option<string> Preset = new("--preset") { Description = "Model size: tiny (32 px), original (64 px) or large (128 px).", DefaultValueFactory = _ => "tiny" };
    public static readonly Option<string> Model = new("--model") { Description = "autoencoder (faceswap-style), triplet or quality.", DefaultValueFactory = _ => "autoencoder" };
    public static readonly Option<string> Device = new("--device") { Description = "cpu, cuda, cuda:N, mps or auto.", DefaultValueFactory = _ => "cpu" };
    public static readonly Option<int> Threads = new("--threads") { Description = "libtorch threads per worker (0: the cores divided among the workers).", DefaultValueFactory = _ => 0 };
    public static readonly Option<ulong> Seed = new("--seed") { Description = "Seed of weights, sampling and augmentation.", DefaultValueFactory = _ => 1UL };
    public static readonly Option<double?> LearningRate = new("--learning-rate") { Description = "Adam learning rate (default: 5e-4 for tiny, 5e-5 otherwise)." };
    public static readonly Option<double> Ssim = new("--ssim-weight") { Description = "Weight of the (1-SSIM)/2 term in the per-sample loss.", DefaultValueFactory = _ => 0.0 };
    public static readonly Option<bool> NoAugment = new("--no-augment") { Description = "Train on the images as they are (no warp, flip or colour jitter)." };
    public static readonly Option<bool> Resume = new("--resume") { Description = "Continue from the run folder's latest valid checkpoint; the step counter carries on." };
    public static readonly Option<string?> InitEncoder = new("--init-encoder") { Description = "Warm-start the shared encoder from another run's checkpoint folder or encoder.pt." };
    public static readonly Option<string[]> InitDecoder = new("--init-decoder") { Description = "IDENTITY=PATH: warm-start that identity's decoder (repeatable).", AllowMultipleArgumentsPerToken = false };
    public static readonly Option<int> MinImages = new("--min-images") { Description = "Leave out identities with fewer usable images.", DefaultValueFactory = _ => ScanOptions.Default.MinImages };
    public static readonly Option<double> ValFraction = new("--val-fraction") { Description = "Fraction held out for validation, by content hash.", DefaultValueFactory = _ => ScanOptions.Default.ValFraction };
    public static readonly Option<double> MaxMegapixels = new("--max-megapixels") { Description = "Pixel budget: an image whose header declares more megapixels is refused, naming it, without being decoded.", DefaultValueFactory = _ => ScanOptions.Default.MaxMegapixels };
    public static readonly Option<int> KeepCheckpoints = new("--keep-checkpoints") { Description = "Checkpoints kept (plus the best).", DefaultValueFactory = _ => 3 };
    public static readonly Option<int> Accumulate = new("--accumulate")
    {
        Description = "Micro-batches per worker's batch: forward and backward in that many parts, the gradients accumulated (a model larger than a device holds at its batch). Not for --model triplet.",
        DefaultValueFactory = _ => 1,
    };
    public static readonly Option<string> Wire = new("--wire")
    {
        Description = "How gradients travel between workers: fp32, or bf16 (half the bytes of the reduce-scatter, summed in float32; the all-gather of the updated parameters stays fp32).",
        DefaultValueFactory = _ => "fp32",
    };
    public static readonly Option<bool> StayUp = new("--stay-up")
    {
        Description = "Stay up once the run is done, serving the dashboard, the ledger and /api/status until stopped; a --resume of a finished run starts so instead of refusing (for restart policies that restart a process that exited 0).",
    };
    public static readonly Option<bool> Insecure = new("--insecure")
    {
        Description = "Akka.Remote over plain TCP, without mutual TLS: whoever reaches the port is a cluster member. Only for a single trusted host (the bind address must be loopback).",
    };
    public static readonly Option<string?> SecretFile = new("--secret-file") { Description = "The cluster's shared secret (default: generated into the run folder)." };
    public static readonly Option<int> MaxBatch = new("--max-batch") { Description = "Cap for the per-worker batch probe (0: device default).", DefaultValueFactory = _ => 0 };
    public static readonly Option<string> UpdateOn = new("--update-on")
    {
        Description = "Where each worker runs the Adam update of its share: auto (the host on a CPU worker, the device on a GPU), host (SIMD over host memory) or device (the moments in device memory). One ring may mix them.",
        DefaultValueFactory = _ => "auto",
    };
    public static readonly Option<string> Overlap = new("--overlap")
    {
        Description = "on: each worker reduces a gradient bucket (the autoencoder's decoders, then its encoder) while backward computes the next; off: after backward, the same buckets in the same order (the same bits); auto: on for a GPU worker, and for a CPU worker where the workers' threads leave this host a free core.",
        DefaultValueFactory = _ => "auto",
    };
    public static readonly Option<string> Curation = new("--curation") { Description = "auto (prunes take effect), review (prunes wait for a person) or off (ledger only).", DefaultValueFactory = _ => "auto" };
    public static readonly Option<string> PruneAction = new("--prune-action") { Description = "exclude (the file stays where it is) or move (to RUNDIR/quarantine/<identity>/). Nothing is ever deleted.", DefaultValueFactory = _ => "exclude" };
    public static readonly Option<long?> WarmupSteps = new("--warmup-steps") { Description = $"Steps before the ledger judges any face (default {FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions.Default.WarmupSteps})." };
    public static readonly Option<bool> FacePrior = new("--face-prior")
    {
        Description = "Curation also uses the face prior: OpenCV's Haar cascades (opencv-data) at run start, and a face with no face found that trained badly from its first observations is pruned. Off by default: it finds misaligned faces on tight real crops but also strongly side-lit good faces (docs/CURATION.md).",
    };
    public static readonly Option<bool> LatentOutliers = new("--latent-outliers")
    {
        Description = "Curation also prunes latent outliers: faces the shared encoder places far from their identity's faces in two identity probes running. Off by default: it finds misaligned, blank and faceless images on real crops, but also strongly side-lit good faces (docs/CURATION.md).",
    };
    public static readonly Option<bool> NoTexturePrior = new("--no-texture-prior")
    {
        Description = "Curation goes without the texture prior (on by default): at run start each image's light-normalised local texture (LBP histograms) is compared with its identity's other faces, and the far outliers are pruned (docs/CURATION.md).",
    };
    public static readonly Option<int?> ProbeEvery = new("--probe-every") { Description = $"Identity probe of every face (autoencoder) at the end of every N-th cycle, 0 never (default {FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions.Default.ProbeEveryCycles})." };
    public static readonly Option<double?> MaxPrune = new("--max-prune") { Description = $"Most of the face set (and of each identity) quarantined in total, as a fraction (default {FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions.Default.MaxPruneFraction})." };
    public static readonly Option<string> Balance = new("--balance") { Description = "How each global batch is split: speed (in proportion to each worker's measured samples/s) or equal.", DefaultValueFactory = _ => "speed" };
    public static readonly Option<string?> Http = new("--http") { Description = "Also serve the coordinator's HTTP API (status, ledger, /metrics) on HOST:PORT, e.g. 127.0.0.1:5080." };
    public static readonly Option<string> LogLevel = new("--log-level") { Description = "error, warning, information or debug.", DefaultValueFactory = _ => "warning" };

    public static IEnumerable<Option> Options() =>
    [
        Data, RunDir, Workers, Cycles, StepsPerCycle, Batch, Preset, Model, Device, Threads, Seed, LearningRate, Ssim, NoAugment,
        Resume, Accumulate, Wire, InitEncoder, InitDecoder, MinImages, ValFraction, MaxMegapixels, KeepCheckpoints, SecretFile, MaxBatch, UpdateOn, Overlap, Curation, PruneAction, WarmupSteps, ProbeEvery, FacePrior, LatentOutliers, NoTexturePrior, MaxPrune, Balance, Http, LogLevel,
    ];

    /// <summary>
    /// The run options of `train`, and of `coordinator`, which has all but the worker-side ones (workers, device,
    /// threads, batch cap, its own --http): those keep their defaults when the command does not have them.
    /// </summary>
    public static TrainRunOptions Bind(ParseResult parse)
    {
        string data = parse.GetRequiredValue(Data);
        var decoders = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in parse.GetValue(InitDecoder) ?? [])
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1)
                throw new FaceClusterException($"--init-decoder '{spec}' is not IDENTITY=PATH", ExitCodes.UsageError);
            decoders[spec[..eq]] = spec[(eq + 1)..];
        }
        double? lr = parse.GetValue(LearningRate);
        if (lr is double l && (!(l > 0) || l > 1)) throw new FaceClusterException($"--learning-rate must be in (0, 1], got {l}", ExitCodes.UsageError);
        return new TrainRunOptions
        {
            DataDir = data,
            RunDir = parse.GetValue(RunDir) ?? ScanCommand.DefaultRunDir(data),
            Workers = ValueOr(parse, Workers, 1),
            Cycles = parse.GetValue(Cycles),
            StepsPerCycle = parse.GetValue(StepsPerCycle),
            GlobalBatch = parse.GetValue(Batch),
            Preset = ModelPreset.Parse(parse.GetValue(Preset)!),
            Model = FaceModelFactory.ParseKind(parse.GetValue(Model)!),
            Device = DeviceSpec.Parse(ValueOr(parse, Device, "cpu")!),
            Threads = ValueOr(parse, Threads, 0),
            Seed = parse.GetValue(Seed),
            LearningRate = lr,
            SsimWeight = parse.GetValue(Ssim),
            Augment = !parse.GetValue(NoAugment),
            Resume = parse.GetValue(Resume),
            Accumulate = parse.GetValue(Accumulate),
            Wire = FaceCluster.Common.DataPlane.WireFormats.Parse(parse.GetValue(Wire)!),
            InitEncoder = parse.GetValue(InitEncoder),
            InitDecoders = decoders,
            Scan = new ScanOptions(parse.GetValue(MinImages), parse.GetValue(ValFraction), ScanOptions.Default.MinSide, parse.GetValue(MaxMegapixels)),
            KeepCheckpoints = parse.GetValue(KeepCheckpoints),
            SecretFile = parse.GetValue(SecretFile),
            MaxBatch = ValueOr(parse, MaxBatch, 0),
            UpdateOn = FaceCluster.Common.Models.Training.UpdatePlacements.Normalize(ValueOr(parse, UpdateOn, "auto")),
            Overlap = FaceCluster.Common.Models.Training.StepOverlap.Normalize(ValueOr(parse, Overlap, "auto")),
            Http = ValueOr(parse, Http, null),
            Curation = BindCuration(parse),
            EqualBatches = parse.GetValue(Balance)!.Trim().ToLowerInvariant() switch
            {
                "speed" => false,
                "equal" => true,
                var other => throw new FaceClusterException($"--balance '{other}' is not a split: use speed or equal", ExitCodes.UsageError),
            },
            PruneAction = parse.GetValue(PruneAction)!.Trim().ToLowerInvariant() switch
            {
                "exclude" => FaceCluster.Coordinator.Ledger.Quarantine.QuarantineAction.Exclude,
                "move" => FaceCluster.Coordinator.Ledger.Quarantine.QuarantineAction.Move,
                var other => throw new FaceClusterException($"--prune-action '{other}' is not an action: use exclude or move", ExitCodes.UsageError),
            },
        };
    }

    private static T ValueOr<T>(ParseResult parse, Option<T> option, T fallback) =>
        parse.CommandResult.Command.Options.Contains(option) ? parse.GetValue(option)! : fallback;

    internal static FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions BindCuration(ParseResult parse)
    {
        var policy = FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions.Default with
        {
            Mode = parse.GetValue(Curation)!.Trim().ToLowerInvariant() switch
            {
                "auto" => FaceCluster.Coordinator.Ledger.Curation.CurationMode.Auto,
                "review" => FaceCluster.Coordinator.Ledger.Curation.CurationMode.Review,
                "off" => FaceCluster.Coordinator.Ledger.Curation.CurationMode.Off,
                var other => throw new FaceClusterException($"--curation '{other}' is not a mode: use auto, review or off", ExitCodes.UsageError),
            },
        };
        if (parse.GetValue(WarmupSteps) is long warmup) policy = policy with { WarmupSteps = warmup };
        if (parse.GetValue(MaxPrune) is double max) policy = policy with { MaxPruneFraction = max };
        if (parse.GetValue(ProbeEvery) is int every) policy = policy with { ProbeEveryCycles = every };
        if (parse.GetValue(FacePrior)) policy = policy with { FaceCheck = true };
        if (parse.GetValue(LatentOutliers)) policy = policy with { DetectLatent = true };
        if (parse.GetValue(NoTexturePrior)) policy = policy with { DetectTexture = false };
        policy.Validate();
        return policy;
    }
}
