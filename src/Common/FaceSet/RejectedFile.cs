namespace FaceCluster.Common.FaceSet;

/// <summary>
/// A file in an identity folder that cannot be used, with the reason. Size, modification time and
/// content hash let a later scan reuse the verdict without probing again (empty hash when unreadable).
/// </summary>
public sealed record RejectedFile(
    string RelativePath,
    string Identity,
    RejectReason Reason,
    string Detail,
    long SizeBytes,
    long MtimeUtcTicks,
    string ContentHash);
