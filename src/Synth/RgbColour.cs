using System.Text.Json.Serialization;
using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>An sRGB colour; written as "#rrggbb" in the truth file.</summary>
[JsonConverter(typeof(RgbColourJsonConverter))]
public readonly record struct RgbColour(byte R, byte G, byte B)
{
    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";

    /// <summary>Parses "#rrggbb"; throws <see cref="FormatException"/> naming the text otherwise.</summary>
    public static RgbColour Parse(string text)
    {
        if (text is not { Length: 7 } || text[0] != '#'
            || !int.TryParse(text.AsSpan(1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v))
            throw new FormatException($"'{text}' is not a colour of the form #rrggbb");
        return new RgbColour((byte)(v >> 16), (byte)(v >> 8), (byte)v);
    }

    /// <summary>OpenCV's channel order (B, G, R).</summary>
    internal Scalar ToScalar() => new(B, G, R);

    /// <summary>This colour with every channel multiplied by <paramref name="factor"/> (clamped to 0..255).</summary>
    internal Scalar Scaled(double factor) => new(Math.Clamp(B * factor, 0, 255), Math.Clamp(G * factor, 0, 255), Math.Clamp(R * factor, 0, 255));

    /// <summary>Linear mix towards <paramref name="other"/>: t = 0 gives this colour, t = 1 the other.</summary>
    internal RgbColour Mix(RgbColour other, double t) => new(
        (byte)Math.Clamp(Math.Round(R + (other.R - R) * t), 0, 255),
        (byte)Math.Clamp(Math.Round(G + (other.G - G) * t), 0, 255),
        (byte)Math.Clamp(Math.Round(B + (other.B - B) * t), 0, 255));

    /// <summary>Relative luminance in 0..1 (Rec. 709 weights on the encoded values).</summary>
    internal double Luma => (0.2126 * R + 0.7152 * G + 0.0722 * B) / 255.0;
}
