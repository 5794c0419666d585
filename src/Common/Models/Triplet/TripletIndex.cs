namespace FaceCluster.Common.Models.Triplet;

/// <summary>One mined triplet: rows of the batch that are the anchor, its positive and its negative.</summary>
public readonly record struct TripletIndex(int Anchor, int Positive, int Negative);
