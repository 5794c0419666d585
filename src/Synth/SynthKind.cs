using System.Text.Json.Serialization;

namespace FaceCluster.Synth;

/// <summary>
/// What a generated image really is. <see cref="Good"/> and <see cref="Hard"/> are legitimate faces of the
/// folder's identity (hard ones are rare but valid: a curation policy must keep them); every other kind is a
/// planted bad image that curation should find. The JSON names are the kebab-case strings in the truth file.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<SynthKind>))]
public enum SynthKind
{
    [JsonStringEnumMemberName("good")] Good,
    [JsonStringEnumMemberName("hard")] Hard,
    [JsonStringEnumMemberName("not-a-face")] NotAFace,
    [JsonStringEnumMemberName("wrong-identity")] WrongIdentity,
    [JsonStringEnumMemberName("misaligned")] Misaligned,
    [JsonStringEnumMemberName("occluded")] Occluded,
    [JsonStringEnumMemberName("blank-or-overexposed")] BlankOrOverexposed,
}
