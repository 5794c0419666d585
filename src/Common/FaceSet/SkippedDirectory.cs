namespace FaceCluster.Common.FaceSet;

/// <summary>A folder the scan did not enter: a symbolic link loop (named by the link) or an unreadable folder.</summary>
public sealed record SkippedDirectory(string RelativePath, string Reason);
