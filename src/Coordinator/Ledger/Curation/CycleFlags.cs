
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>What happened to a sample in one closed cycle (stored with its per-cycle row).</summary>
[Flags]
public enum CycleFlags : byte
{
    None = 0,
    HighOutlier = 1,
    LowOutlier = 2,
    Erratic = 4,
    Refed = 8,
    Evaluated = 16,
    HeldByCap = 32,
    GlobalReference = 64,
    /// <summary>Its identity margin is an outlier: it does not look like its identity to the model (identity probe).</summary>
    IdentityOutlier = 128,
}
