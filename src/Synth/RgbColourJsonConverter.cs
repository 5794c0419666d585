using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceCluster.Synth;

/// <summary>Reads and writes <see cref="RgbColour"/> as "#rrggbb".</summary>
internal sealed class RgbColourJsonConverter : JsonConverter<RgbColour>
{
    public override RgbColour Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string text = reader.GetString() ?? throw new JsonException("a colour is null");
        try { return RgbColour.Parse(text); }
        catch (FormatException e) { throw new JsonException(e.Message, e); }
    }

    public override void Write(Utf8JsonWriter writer, RgbColour value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
