namespace FaceCluster.Common.Models.Triplet;

/// <summary>Two images (row indices) and whether they show the same identity.</summary>
public readonly record struct VerificationPair(int First, int Second, bool Same);
