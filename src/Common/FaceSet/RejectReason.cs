namespace FaceCluster.Common.FaceSet;

/// <summary>Why a file in a face set cannot be used.</summary>
public enum RejectReason
{
    /// <summary>The file could not be read (permission denied, I/O error, broken link).</summary>
    Unreadable,
    /// <summary>The file is empty.</summary>
    ZeroBytes,
    /// <summary>No known image signature, or a known header whose data the decoder cannot read.</summary>
    NotAnImage,
    /// <summary>A known image format whose data is cut short (no JPEG EOI, no PNG IEND, short BMP/PGM/WebP).</summary>
    Truncated,
    /// <summary>Width or height is below the minimum side (<see cref="ScanOptions.MinSide"/>).</summary>
    TooSmall,
    /// <summary>Samples that are not 8- or 16-bit integers, or a channel count other than 1, 3 or 4.</summary>
    UnsupportedDepth,
    /// <summary>The header declares more pixels than the budget (<see cref="ScanOptions.MaxMegapixels"/>), or the file is larger than the budget allows: never decoded.</summary>
    TooLarge,
}
