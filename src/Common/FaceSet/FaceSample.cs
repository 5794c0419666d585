namespace FaceCluster.Common.FaceSet;

/// <summary>
/// One usable image of a face set. <see cref="Id"/> is stable across manifest rebuilds for the same
/// relative path and never reused for another file. <see cref="RelativePath"/> uses '/' separators.
/// <see cref="ContentHash"/> is the SHA-256 of the file bytes in lower-case hex.
/// </summary>
public sealed record FaceSample(
    int Id,
    string RelativePath,
    string Identity,
    string ContentHash,
    long SizeBytes,
    long MtimeUtcTicks,
    int Width,
    int Height,
    bool IsValidation);
