namespace FaceCluster.Common.Models.Triplet;

/// <summary>
/// The outcome of k-fold verification: the mean and (population) standard deviation of the test-fold accuracies,
/// each fold's accuracy and the squared-distance threshold chosen on the other folds.
/// </summary>
public sealed record VerificationResult(double MeanAccuracy, double StdAccuracy, double[] FoldAccuracies, double[] Thresholds, int SamePairs, int DifferentPairs)
{
    public int Folds => FoldAccuracies.Length;

    /// <summary>"verification accuracy: 0.xxxx ± 0.xxxx (10-fold)".</summary>
    public override string ToString() =>
        FormattableString.Invariant($"verification accuracy: {MeanAccuracy:F4} ± {StdAccuracy:F4} ({Folds}-fold)");
}
