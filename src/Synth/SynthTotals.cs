namespace FaceCluster.Synth;

/// <summary>Counts over a synthetic face set. <see cref="ByKind"/> is keyed by the truth-file kind names.</summary>
public sealed record SynthTotals
{
    /// <summary>Images in the face-set folder (holdout images not included).</summary>
    public required int Images { get; init; }
    public required int Good { get; init; }
    public required int Hard { get; init; }
    public required int Bad { get; init; }
    public required IReadOnlyDictionary<string, int> ByKind { get; init; }
    /// <summary>Clean images in the holdout folder.</summary>
    public required int Holdout { get; init; }
}
