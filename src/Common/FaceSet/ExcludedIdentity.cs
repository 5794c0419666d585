namespace FaceCluster.Common.FaceSet;

/// <summary>
/// An identity left out because it has fewer usable images than <see cref="ScanOptions.MinImages"/>.
/// Its usable images keep their ids here so that they are stable if the identity grows back.
/// </summary>
public sealed record ExcludedIdentity(string Identity, int UsableImages, IReadOnlyList<FaceSample> Samples);
