
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>One identity's figures.</summary>
/// <param name="Active">Samples trained on normally (active or restored).</param>
/// <param name="MeanLoss">Mean of the EMA loss of its observed samples that are not quarantined (NaN if none).</param>
/// <param name="MeanRelative">Mean of the EMA relative loss of those samples (NaN if none).</param>
public sealed record LedgerIdentity(string Name, int Samples, int Active, int Refed, int Flagged, int AwaitingReview, int Quarantined, int Restored,
    long Observations, double MeanLoss, double MeanRelative);
