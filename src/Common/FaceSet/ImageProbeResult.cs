namespace FaceCluster.Common.FaceSet;

/// <summary>
/// The outcome of validating one image: <see cref="Reject"/> is null when the image is usable.
/// Width, height, channels and bit depth are those of the stored image (0 when unknown).
/// </summary>
public sealed record ImageProbeResult(
    RejectReason? Reject,
    string Detail,
    FaceImageFormat Format,
    int Width,
    int Height,
    int Channels,
    int BitDepth)
{
    public bool IsUsable => Reject is null;

    internal static ImageProbeResult Rejected(RejectReason reason, string detail, FaceImageFormat format = FaceImageFormat.Unknown,
        int width = 0, int height = 0, int channels = 0, int bitDepth = 0)
        => new(reason, detail, format, width, height, channels, bitDepth);
}
