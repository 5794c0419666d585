namespace FaceCluster.Common.Models.Checkpoints;

/// <summary>
/// meta.json of a checkpoint folder: what was saved, for which model and face set, and the checksum of every
/// file, so a corrupt or half-written checkpoint is detected before it is used.
/// </summary>
public sealed record CheckpointMeta
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required string ModelKind { get; init; }
    public required string Preset { get; init; }
    public required int ImageSize { get; init; }
    public required string[] Labels { get; init; }
    public required long Step { get; init; }
    public required long Cycle { get; init; }
    public required string ManifestHash { get; init; }
    /// <summary>Lower is better (mean training or validation loss of the cycle); decides the "best" checkpoint kept.</summary>
    public double? Metric { get; init; }
    public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;
    public string FaceClusterVersion { get; init; } = "";
    /// <summary>SHA-256 (hex) of every other file in the folder.</summary>
    public Dictionary<string, string> Files { get; init; } = new();
    /// <summary>Run state beside the model (plan, quarantine set, ...), as small strings.</summary>
    public Dictionary<string, string> Extra { get; init; } = new();
}
