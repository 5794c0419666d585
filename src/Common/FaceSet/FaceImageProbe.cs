using FaceCluster.Common.IO;
using OpenCvSharp;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Validates one image file: readable, non-empty, a known signature whose structure is complete,
/// decodable, 8- or 16-bit integer samples with 1, 3 or 4 channels, and both sides at least the minimum.
/// Checks run in that order; the first failure is the reject reason.
/// </summary>
public static class FaceImageProbe
{
    /// <summary>Reads and validates a file. I/O and permission errors give <see cref="RejectReason.Unreadable"/>.</summary>
    public static ImageProbeResult ProbeFile(string path, int minSide = 16, ScanOptions? budget = null)
    {
        budget ??= ScanOptions.Default;
        byte[] bytes;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > budget.MaxFileBytes) return TooBig(length, budget);
            bytes = RegularFiles.ReadImage(path, budget.MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ImageProbeResult.Rejected(RejectReason.Unreadable, e.Message);
        }
        return Probe(bytes, minSide, budget.MaxPixels);
    }

    /// <summary>The refusal of a file larger than <paramref name="budget"/> allows, before it is read.</summary>
    public static ImageProbeResult TooBig(long length, ScanOptions budget) =>
        ImageProbeResult.Rejected(RejectReason.TooLarge,
            $"{length / 1e6:F1} MB, over the {budget.MaxFileBytes / 1e6:F0} MB a file may take at the pixel budget of {budget.MaxMegapixels:G} MP (--max-megapixels)");

    /// <summary>Validates the bytes of an image file; one that declares more than <paramref name="maxPixels"/> pixels is refused undecoded.</summary>
    public static ImageProbeResult Probe(ReadOnlySpan<byte> data, int minSide = 16, long maxPixels = 40_000_000)
    {
        if (data.Length == 0) return ImageProbeResult.Rejected(RejectReason.ZeroBytes, "the file is empty");
        var structure = ImageStructure.Inspect(data);
        var format = structure.Format;
        if (structure.Problem is { } problem) return ImageProbeResult.Rejected(problem, structure.Detail, format);
        if (!IsSupported(structure.DeclaredBitDepth, structure.DeclaredChannels, declared: true))
            return ImageProbeResult.Rejected(RejectReason.UnsupportedDepth,
                $"{format} stores {Describe(structure.DeclaredBitDepth, structure.DeclaredChannels)}; supported: 8- or 16-bit samples with 1, 3 or 4 channels",
                format, 0, 0, structure.DeclaredChannels, structure.DeclaredBitDepth);

        if (structure.DeclaredPixels > maxPixels)
            return ImageProbeResult.Rejected(RejectReason.TooLarge,
                $"{format} declares {structure.DeclaredWidth}x{structure.DeclaredHeight} px ({structure.DeclaredPixels / 1e6:F0} MP), over the pixel budget of {maxPixels / 1e6:G} MP (--max-megapixels); not decoded",
                format, structure.DeclaredWidth, structure.DeclaredHeight, structure.DeclaredChannels, structure.DeclaredBitDepth);

        OpenCvLog.EnsureQuiet();
        using var mat = Decode(data);
        if (mat is null || mat.Empty())
            return ImageProbeResult.Rejected(RejectReason.NotAnImage, $"{format} header, but the decoder cannot read the image data", format);
        int width = mat.Width, height = mat.Height, channels = mat.Channels();
        int depth = mat.Depth() switch { MatType.CV_8U => 8, MatType.CV_16U => 16, _ => 0 };
        if (!IsSupported(depth, channels, declared: false))
            return ImageProbeResult.Rejected(RejectReason.UnsupportedDepth,
                $"decoded {format} has {Describe(depth, channels)} (OpenCV depth {mat.Depth()}); supported: 8- or 16-bit samples with 1, 3 or 4 channels",
                format, width, height, channels, depth);
        if ((long)width * height > maxPixels)
            return ImageProbeResult.Rejected(RejectReason.TooLarge, $"{width}x{height} px, over the pixel budget of {maxPixels / 1e6:G} MP (--max-megapixels)",
                format, width, height, channels, depth);
        if (width < minSide || height < minSide)
            return ImageProbeResult.Rejected(RejectReason.TooSmall, $"{width}x{height} px, below the minimum side of {minSide} px",
                format, width, height, channels, depth);
        return new ImageProbeResult(null, "", format, width, height, channels, depth);
    }

    private static Mat? Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            return Cv2.ImDecode(data, ImreadModes.Unchanged);
        }
        catch (OpenCVException)
        {
            return null;
        }
    }

    /// <summary>Depth 0 / channels 0 mean "the header does not say" and pass the declared check.</summary>
    private static bool IsSupported(int bitDepth, int channels, bool declared)
    {
        bool depthOk = bitDepth is 8 or 16 || (declared && bitDepth == 0);
        bool channelsOk = channels is 1 or 3 or 4 || (declared && channels == 0);
        return depthOk && channelsOk;
    }

    private static string Describe(int bitDepth, int channels)
        => $"{(bitDepth == 0 ? "non-integer or unknown" : bitDepth + "-bit")} samples with {channels} channel{(channels == 1 ? "" : "s")}";
}
