using System.Text.Json.Serialization;

namespace FaceCluster.Synth;

/// <summary>Facial hair of a synthetic identity.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FacialHair>))]
public enum FacialHair
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("stubble")] Stubble,
    [JsonStringEnumMemberName("moustache")] Moustache,
    [JsonStringEnumMemberName("goatee")] Goatee,
    [JsonStringEnumMemberName("full-beard")] FullBeard,
}
