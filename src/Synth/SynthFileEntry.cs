using System.Text.Json.Serialization;

namespace FaceCluster.Synth;

/// <summary>
/// The truth about one generated file. <see cref="Path"/> is relative to the face-set folder (or to the
/// holdout folder for holdout entries) and always uses '/'.
/// </summary>
public sealed record SynthFileEntry
{
    public required string Path { get; init; }
    /// <summary>The identity whose folder holds the file.</summary>
    public required string Identity { get; init; }
    public required SynthKind Kind { get; init; }
    /// <summary>For <see cref="SynthKind.WrongIdentity"/>: the identity whose face was really drawn; otherwise null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SourceIdentity { get; init; }
    /// <summary>What was done to make a hard or bad image (e.g. "rotated 41°", "hand over the eyes"); null for good images.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    /// <summary>True for the planted bad kinds.</summary>
    [JsonIgnore]
    public bool IsBad => Kind.IsBad();
}
