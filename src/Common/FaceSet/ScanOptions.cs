
namespace FaceCluster.Common.FaceSet;

/// <summary>
/// How a face set is scanned. A manifest built with other options is rebuilt (sample ids are kept).
/// </summary>
/// <param name="MinImages">Identities with fewer usable images are left out (--min-images, at least 1).</param>
/// <param name="ValFraction">Fraction of images held out for validation, chosen by content hash (--val-fraction, in [0, 1)).</param>
/// <param name="MinSide">Images with a side shorter than this many pixels are rejected (--min-side, at least 1).</param>
/// <param name="MaxMegapixels">
/// The pixel budget: an image whose header declares more megapixels is refused without being decoded (--max-megapixels,
/// 0.01 to 1000). A 3 MB PNG can declare 32767 × 32767 pixels, 3.2 GB decoded.
/// </param>
public sealed record ScanOptions(int MinImages = 3, double ValFraction = 0.1, int MinSide = 16, double MaxMegapixels = 40)
{
    public static ScanOptions Default { get; } = new();

    /// <summary>The pixel budget in pixels.</summary>
    public long MaxPixels => (long)(MaxMegapixels * 1_000_000);

    /// <summary>The largest file read: what the budget's pixels take at 8 bytes each (16-bit RGBA, uncompressed), plus 1 MiB of headers.</summary>
    public long MaxFileBytes => MaxPixels * 8 + (1L << 20);

    /// <summary>Throws <see cref="FaceClusterException"/> (usage error) naming the flag and the value.</summary>
    public void Validate()
    {
        if (MinImages < 1)
            throw Usage("--min-images", MinImages.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        if (double.IsNaN(ValFraction) || ValFraction < 0 || ValFraction >= 1)
            throw Usage("--val-fraction", ValFraction.ToString("R", CultureInfo.InvariantCulture), "must be at least 0 and below 1");
        if (MinSide < 1)
            throw Usage("--min-side", MinSide.ToString(CultureInfo.InvariantCulture), "must be at least 1 pixel");
        if (double.IsNaN(MaxMegapixels) || MaxMegapixels < 0.01 || MaxMegapixels > 1000)
            throw Usage("--max-megapixels", MaxMegapixels.ToString("R", CultureInfo.InvariantCulture), "must be from 0.01 to 1000");
    }

    private static FaceClusterException Usage(string flag, string value, string rule)
        => new($"{flag} {value}: {rule}", ExitCodes.UsageError);
}
