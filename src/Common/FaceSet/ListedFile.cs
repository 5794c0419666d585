namespace FaceCluster.Common.FaceSet;

/// <summary>
/// A file found in an identity folder (with an image extension), before it is read.
/// <see cref="StatError"/> is set when its size or time could not be read (then both are -1).
/// </summary>
public sealed record ListedFile(
    string RelativePath,
    string Identity,
    string FullPath,
    long SizeBytes,
    long MtimeUtcTicks,
    string? StatError = null);
