namespace FaceCluster.Synth;

/// <summary>One identity of a synthetic face set: its folder name, a readable summary and its full traits.</summary>
public sealed record SynthIdentity
{
    /// <summary>Folder and file-name stem, e.g. "person-01".</summary>
    public required string Name { get; init; }
    public required string Summary { get; init; }
    /// <summary>The generator's traits; null for a real identity (`facecluster plant`).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IdentityTraits? Traits { get; init; }
}
