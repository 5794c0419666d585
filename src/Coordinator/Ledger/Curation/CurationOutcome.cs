
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>The policy's verdict on one sample of the snapshot.</summary>
/// <param name="Z">Robust z of its smoothed log relative loss against its reference (NaN if not evaluated).</param>
/// <param name="ErraticZ">Robust z of the log of its relative-loss spread (NaN if not evaluated).</param>
/// <param name="State">What to remember for the next cycle.</param>
/// <param name="Status">Its status after this cycle (Quarantined: prune now; AwaitingReview: review mode's prune).</param>
/// <param name="Reason">Why the status changed; null when it did not.</param>
public readonly record struct CurationOutcome(int Index, CycleFlags Flags, float Z, float ErraticZ, SamplePolicyState State, SampleStatus Status, string? Reason)
{
    /// <summary>Robust z of its smoothed identity margin against its identity (NaN when it has too few probes).</summary>
    public float IdentityZ { get; init; } = float.NaN;

    /// <summary>The sample's identity-outlier bits after this cycle (a new probe shifts in a bit).</summary>
    public uint ProbeOutlierBits { get; init; }
}
