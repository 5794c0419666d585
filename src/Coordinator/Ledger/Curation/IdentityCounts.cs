
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>One identity's sample counts, for the caps.</summary>
/// <param name="InTraining">Samples neither quarantined nor awaiting review.</param>
public readonly record struct IdentityCounts(int Samples, int InTraining, int Quarantined, int AwaitingReview);
