
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>What the curation policy may do.</summary>
public enum CurationMode
{
    /// <summary>Prunes take effect: the samples are quarantined and leave training.</summary>
    Auto,
    /// <summary>Would-be prunes wait for a person (AwaitingReview); a ReviewDecision applies the choice.</summary>
    Review,
    /// <summary>Ledger only: statistics are kept, no status changes, empty directives.</summary>
    Off,
}
