namespace FaceCluster.Synth;

/// <summary>What <see cref="SynthGenerator.Generate"/> wrote and how long it took.</summary>
public sealed record SynthResult
{
    /// <summary>The face-set folder DIR (full path).</summary>
    public required string DataDir { get; init; }
    /// <summary>DIR.truth.json (full path).</summary>
    public required string TruthPath { get; init; }
    /// <summary>DIR.holdout (full path), or null when no holdout images were asked for.</summary>
    public required string? HoldoutDir { get; init; }
    public required SynthTruth Truth { get; init; }
    /// <summary>Files of an earlier generation that --force deleted.</summary>
    public required int ReplacedFiles { get; init; }
    public required TimeSpan Elapsed { get; init; }
}
