namespace FaceCluster.Synth.Planting;

/// <summary>How `facecluster plant` made a face set: recorded in the truth file, so a run can tell whether a planted copy is still the one it asks for.</summary>
public sealed record PlantParameters
{
    /// <summary>The real face folder the images were copied from (absolute).</summary>
    public required string Source { get; init; }
    /// <summary>Share of the copy's images replaced by planted bad ones.</summary>
    public required double Fraction { get; init; }
    /// <summary>The planted kinds, by wire name ("misaligned", ...).</summary>
    public required IReadOnlyList<string> Kinds { get; init; }
    /// <summary>How occluders were placed: "haar" (OpenCV's face cascade, an identity's median box where it found none) or "centre".</summary>
    public required string FaceBox { get; init; }
}
