namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// A face's outlier history over its judged identity probes, in one <see cref="uint"/> (persisted as it is): bit k of
/// the low half set when its k-th newest probe made it an outlier (an identity or a latent outlier, which count
/// together toward persistence); bit k of the high half when that outlier was the latent's. Older histories, written
/// before latent outliers, hold only the low half.
/// </summary>
public static class ProbeBits
{
    /// <summary>Probes remembered: the most a persistence window can look back.</summary>
    public const int Window = 16;

    private const uint Half = (1u << Window) - 1;

    /// <summary>The history after one more judged probe.</summary>
    public static uint Push(uint bits, bool outlier, bool latentOutlier)
    {
        uint low = (((bits & Half) << 1) | (outlier || latentOutlier ? 1u : 0u)) & Half;
        uint high = ((((bits >> Window) & Half) << 1) | (latentOutlier ? 1u : 0u)) & Half;
        return (high << Window) | low;
    }

    /// <summary>Outlier probes (either kind) among its last <paramref name="probes"/>.</summary>
    public static int Outliers(uint bits, int probes) => System.Numerics.BitOperations.PopCount(bits & Mask(probes));

    /// <summary>Latent outlier probes among its last <paramref name="probes"/>.</summary>
    public static int LatentOutliers(uint bits, int probes) => System.Numerics.BitOperations.PopCount((bits >> Window) & Mask(probes));

    private static uint Mask(int probes) => probes >= Window ? Half : (1u << Math.Max(0, probes)) - 1;
}
