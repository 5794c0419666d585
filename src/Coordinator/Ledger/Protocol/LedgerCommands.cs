
namespace FaceCluster.Coordinator.Ledger.Protocol;

// Coordinator → ledger: the face set, the losses and the cycle boundaries.

/// <summary>The face set of the run: sample ids, each sample's identity (index into IdentityNames) and path.</summary>
public sealed record RegisterFaceSet(string[] IdentityNames, int[] SampleIds, int[] IdentityOfSample, string[] RelativePaths, string ManifestHash) : ILedgerMessage;

/// <summary>
/// The per-sample losses (reduction none) of one worker's local batch in one step, tagged with sample ids.
/// <paramref name="ReportsInStep"/> is how many workers report for that step, so the ledger knows when the step is complete.
/// </summary>
public sealed record LossReport(string WorkerId, long Cycle, long Step, int ReportsInStep, int[] SampleIds, float[] Losses) : ILedgerMessage;

/// <summary>
/// Identity-probe losses of samples at the end of <paramref name="Cycle"/> (step <paramref name="Step"/>): per sample, the loss
/// through its own identity's decoder and the lowest through another identity's; and the encoder's latent vector of each
/// (row-major, <see cref="LatentWidth"/> floats a sample; empty for a model without one).
/// </summary>
public sealed record ProbeReport(string WorkerId, long Cycle, long Step, int[] SampleIds, float[] OwnLosses, float[] OtherLosses) : ILedgerMessage
{
    public float[] Latents { get; init; } = [];
    public int LatentWidth { get; init; }
}

/// <summary>The cycle is over: run the curation policy and reply with <see cref="CurationDirectives"/>.</summary>
public sealed record CloseCycle(long Cycle, long Step) : ILedgerMessage;

/// <summary>
/// The policy's decisions for the next cycle. Prune: quarantine now (auto mode). Refeed with weights: oversample.
/// Flagged: outliers being watched. AwaitingReview: waiting for a person (review mode). Restored: back in training.
/// </summary>
public sealed record CurationDirectives(long Cycle, int[] Prune, int[] Refeed, float[] RefeedWeights, int[] Flagged, int[] AwaitingReview, int[] Restored) : ILedgerMessage;

/// <summary>A loss report a worker sent again after a coordinator restart: ingested unless the ledger holds that worker's step already.</summary>
public sealed record ReplayedLossReport(LossReport Report) : ILedgerMessage;

/// <summary>Ledger → coordinator after a flush: per worker, the newest step whose loss reports are all in ledger.db.</summary>
public sealed record LossesDurableFor(string[] WorkerIds, long[] ThroughSteps) : ILedgerMessage;

/// <summary>A checkpoint's figure on the validation split (e.g. "validation/loss"): one point of the ledger's validation curve of that name.</summary>
public sealed record ValidationReport(long Step, string Name, double Value) : ILedgerMessage;
