
namespace FaceCluster.Common.FaceSet;

/// <summary>
/// How a face set is scanned. A manifest built with other options is rebuilt (sample ids are kept).
/// </summary>
/// <param name="MinImages">Identities with fewer usable images are left out (--min-images, at least 1).</param>
/// <param name="ValFraction">Fraction of images held out for validation, chosen by content hash (--val-fraction, in [0, 1)).</param>
/// <param name="MinSide">Images with a side shorter than this many pixels are rejected (--min-side, at least 1).</param>
public sealed record ScanOptions(int MinImages = 3, double ValFraction = 0.1, int MinSide = 16)
{
    public static ScanOptions Default { get; } = new();

    /// <summary>Throws <see cref="FaceClusterException"/> (usage error) naming the flag and the value.</summary>
    public void Validate()
    {
        if (MinImages < 1)
            throw Usage("--min-images", MinImages.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        if (double.IsNaN(ValFraction) || ValFraction < 0 || ValFraction >= 1)
            throw Usage("--val-fraction", ValFraction.ToString("R", CultureInfo.InvariantCulture), "must be at least 0 and below 1");
        if (MinSide < 1)
            throw Usage("--min-side", MinSide.ToString(CultureInfo.InvariantCulture), "must be at least 1 pixel");
    }

    private static FaceClusterException Usage(string flag, string value, string rule)
        => new($"{flag} {value}: {rule}", ExitCodes.UsageError);
}
