
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// Where a sample stands in the ledger. Messages carry the kebab-case names of <see cref="SampleStatusNames"/>.
/// </summary>
public enum SampleStatus : byte
{
    /// <summary>Trained on normally.</summary>
    Active = 0,
    /// <summary>Persistently high relative loss: oversampled for a few cycles to see whether it can be learned.</summary>
    Refed = 1,
    /// <summary>An outlier in a recent cycle: watched, nothing done yet.</summary>
    Flagged = 2,
    /// <summary>Review mode: the policy would prune it and waits for a person's decision (it keeps training meanwhile).</summary>
    AwaitingReview = 3,
    /// <summary>Excluded from training (and, with the move action, its file moved to RUNDIR/quarantine).</summary>
    Quarantined = 4,
    /// <summary>Put back (or kept) by a person: trained on normally and never pruned again automatically.</summary>
    Restored = 5,
}
