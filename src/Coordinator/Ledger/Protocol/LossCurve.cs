
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// One loss curve: point k is the mean loss of the <paramref name="Records"/>[k] records of the steps from
/// <paramref name="Steps"/>[k] up to the next point's step (long runs are downsampled by merging neighbours).
/// </summary>
public sealed record LossCurve(string Name, long[] Steps, double[] MeanLoss, long[] Records);
