namespace FaceCluster.Common.FaceSet;

/// <summary>Image container formats recognised by their signature (not by the file extension).</summary>
public enum FaceImageFormat
{
    Unknown,
    Jpeg,
    Png,
    Bmp,
    Pgm,
    WebP,
}
