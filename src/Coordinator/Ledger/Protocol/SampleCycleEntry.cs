
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>One sample in one closed cycle in which it was seen.</summary>
/// <param name="MeanRelative">Mean relative loss (loss / its step's median) over the cycle's observations.</param>
/// <param name="Z">Robust z of ln(MeanRelative) against its identity's samples in that cycle (NaN if not evaluated).</param>
/// <param name="HighOutlier">An outlier above its identity in this cycle.</param>
/// <param name="LowOutlier">An outlier below its identity (suspiciously easy, e.g. a blank image).</param>
/// <param name="Refed">Re-fed (oversampled) during this cycle.</param>
/// <param name="Evaluated">The policy evaluated it (after the warm-up, in a policy cycle).</param>
/// <param name="Status">Its status after this cycle's decisions.</param>
/// <param name="IdentityOutlier">Its identity probe at the end of this cycle made it an identity outlier.</param>
public sealed record SampleCycleEntry(long Cycle, int Observations, double MeanRelative, double MeanLoss, double Z,
    bool HighOutlier, bool LowOutlier, bool Refed, bool Evaluated, string Status, bool IdentityOutlier);
