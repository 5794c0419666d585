using FaceCluster.Common.Models;
using FaceCluster.Common.Torch;

namespace FaceCluster.Coordinator.Runs;

/// <summary>Everything `facecluster train` (an embedded coordinator and local workers) is told.</summary>
public sealed record TrainRunOptions
{
    public required string DataDir { get; init; }
    public required string RunDir { get; init; }
    public int Workers { get; init; } = 1;
    public int Cycles { get; init; } = 10;
    public int StepsPerCycle { get; init; } = 50;
    public int GlobalBatch { get; init; } = 32;
    public ModelPreset Preset { get; init; } = ModelPreset.Tiny;
    public ModelKind Model { get; init; } = ModelKind.Autoencoder;
    public DeviceSpec Device { get; init; } = DeviceSpec.Cpu;
    /// <summary>libtorch threads per worker; 0 = the cores divided among the workers.</summary>
    public int Threads { get; init; }
    public ulong Seed { get; init; } = 1;
    public double? LearningRate { get; init; }
    public double SsimWeight { get; init; }
    public bool Augment { get; init; } = true;
    public bool Resume { get; init; }
    /// <summary>Micro-batches per local batch (--accumulate): for a model larger than a device holds at its batch.</summary>
    public int Accumulate { get; init; } = 1;
    /// <summary>How gradients travel between workers (--wire): fp32, or bf16 with half the reduce-scatter's bytes.</summary>
    public Common.DataPlane.WireFormat Wire { get; init; } = Common.DataPlane.WireFormat.Fp32;
    /// <summary>
    /// The process stays up once the run is done, serving the dashboard, the ledger and /api/status until stopped
    /// (--stay-up), and a --resume of a finished run starts in that state instead of refusing: no restart policy loops.
    /// </summary>
    public bool StayUp { get; init; }
    public string? InitEncoder { get; init; }
    public IReadOnlyDictionary<string, string> InitDecoders { get; init; } = new Dictionary<string, string>();
    public ScanOptions Scan { get; init; } = ScanOptions.Default;
    public int KeepCheckpoints { get; init; } = 3;
    public string? SecretFile { get; init; }
    public int MaxBatch { get; init; }
    /// <summary>Where the in-process workers run their Adam update (--update-on): auto, host or device.</summary>
    public string UpdateOn { get; init; } = "auto";
    /// <summary>Whether the in-process workers reduce each gradient bucket while backward computes the next (--overlap auto|on|off).</summary>
    public string Overlap { get; init; } = "auto";
    /// <summary>HOST:PORT of the coordinator's HTTP API beside the run; null: no HTTP server.</summary>
    public string? Http { get; init; }
    public TimeSpan FailureGrace { get; init; } = TimeSpan.FromSeconds(3);
    public long DecodedCacheBytes { get; init; } = 512L << 20;
    /// <summary>The ledger's curation policy (mode auto, review or off, and its thresholds).</summary>
    public FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions Curation { get; init; } = FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions.Default;
    /// <summary>What quarantining does to a file: exclude (untouched) or move into the run folder.</summary>
    public FaceCluster.Coordinator.Ledger.Quarantine.QuarantineAction PruneAction { get; init; } = FaceCluster.Coordinator.Ledger.Quarantine.QuarantineAction.Exclude;
    /// <summary>Split each global batch equally among the workers instead of by their measured speed.</summary>
    public bool EqualBatches { get; init; }

    public long TotalSteps => (long)Cycles * StepsPerCycle;

    public void Validate()
    {
        static void Positive(int v, string flag) { if (v < 1) throw new Common.Errors.FaceClusterException($"{flag} must be at least 1, got {v}", Common.Errors.ExitCodes.UsageError); }
        Positive(Workers, "--workers");
        Positive(Cycles, "--cycles");
        Positive(StepsPerCycle, "--steps-per-cycle");
        Positive(GlobalBatch, "--batch");
        Positive(KeepCheckpoints, "--keep-checkpoints");
        Positive(Accumulate, "--accumulate");
        if (Accumulate > 1 && Model == Common.Models.ModelKind.Triplet)
            throw new Common.Errors.FaceClusterException("--accumulate: the triplet loss mines its triplets within the whole batch, so it cannot be split into micro-batches", Common.Errors.ExitCodes.UsageError);
        if (MaxBatch < 0) throw new Common.Errors.FaceClusterException($"--max-batch must be 0 (device default) or more, got {MaxBatch}", Common.Errors.ExitCodes.UsageError);
        if (Threads < 0) throw new Common.Errors.FaceClusterException($"--threads must be 0 (automatic) or more, got {Threads}", Common.Errors.ExitCodes.UsageError);
        if (SsimWeight < 0 || !double.IsFinite(SsimWeight)) throw new Common.Errors.FaceClusterException($"--ssim-weight must be 0 or more, got {SsimWeight}", Common.Errors.ExitCodes.UsageError);
        if (GlobalBatch < Workers) throw new Common.Errors.FaceClusterException($"--batch {GlobalBatch} is smaller than --workers {Workers}: every worker needs at least one sample per step", Common.Errors.ExitCodes.UsageError);
        if (Resume && (InitEncoder != null || InitDecoders.Count > 0))
            throw new Common.Errors.FaceClusterException("--resume continues a run from its own checkpoint; --init-encoder/--init-decoder start a new one: use one or the other", Common.Errors.ExitCodes.UsageError);
        Curation.Validate();
        Scan.Validate();
    }
}
