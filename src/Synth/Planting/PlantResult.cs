namespace FaceCluster.Synth.Planting;

/// <summary>What `facecluster plant` wrote: the copy, its truth, and the source files it could not read (left out, named).</summary>
public sealed record PlantResult
{
    public required string DataDir { get; init; }
    public required string TruthPath { get; init; }
    public required SynthTruth Truth { get; init; }
    /// <summary>"path: reason" for every source image OpenCV could not decode; they are not copied.</summary>
    public required IReadOnlyList<string> Unreadable { get; init; }
    /// <summary>Images where the Haar cascade found a face (0 in centre mode).</summary>
    public required int FacesFound { get; init; }
    public required int ReplacedFiles { get; init; }
}
