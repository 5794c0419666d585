using System.Text.Json.Serialization;

namespace FaceCluster.Synth;

/// <summary>The hair styles a synthetic identity can have; each is drawn with a clearly different silhouette.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HairStyle>))]
public enum HairStyle
{
    [JsonStringEnumMemberName("short-cap")] ShortCap,
    [JsonStringEnumMemberName("fringe")] Fringe,
    [JsonStringEnumMemberName("side-part")] SidePart,
    [JsonStringEnumMemberName("long-sides")] LongSides,
    [JsonStringEnumMemberName("bald")] Bald,
    [JsonStringEnumMemberName("curly")] Curly,
    [JsonStringEnumMemberName("buzz")] Buzz,
}
