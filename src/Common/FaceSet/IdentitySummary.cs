namespace FaceCluster.Common.FaceSet;

/// <summary>One identity used for training: its image count and how many of them are validation images.</summary>
public sealed record IdentitySummary(string Identity, int Images, int ValidationImages);
