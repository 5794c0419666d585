
namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Deterministic train/validation split by content: a sample is a validation sample iff the first 8
/// bytes of its SHA-256, read as an unsigned big-endian integer and divided by 2^64, are below the
/// fraction. The same content lands on the same side on every machine, whatever its name.
/// </summary>
public static class FaceSplit
{
    private const double TwoTo64 = 18446744073709551616.0;

    public static bool IsValidation(string contentHashHex, double valFraction)
    {
        if (contentHashHex.Length < 16)
            throw new ArgumentException($"content hash '{contentHashHex}' is shorter than 16 hex digits", nameof(contentHashHex));
        ulong head = ulong.Parse(contentHashHex.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (!(valFraction > 0)) return false;
        // Exact in integers: head / 2^64 < f  <=>  head < f * 2^64 (a double multiplied by a power of two is
        // exact)  <=>  head < ceil(f * 2^64). Converting head to double instead would round near the threshold.
        double threshold = Math.Ceiling(valFraction * TwoTo64);
        return threshold >= TwoTo64 || head < (ulong)threshold;
    }
}
