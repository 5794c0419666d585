namespace FaceCluster.Common.DataPlane;

/// <summary>
/// float32 ⇄ bfloat16 for the ring's bf16 wire. Encoding rounds to nearest, ties to even (as PyTorch and the
/// hardware do); NaN stays a quiet NaN, ±∞ stays ±∞, and a finite value too large for bf16 rounds to ±∞ as in
/// IEEE arithmetic. Decoding is exact (a bf16 value is a float32 with 16 zero bits).
/// </summary>
public static class BFloat16Codec
{
    public static ushort Encode(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((bits >> 16) | 0x0040); // NaN: keep the sign, make it quiet
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    public static float Decode(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>The float32 that survives a trip through bf16.</summary>
    public static float Round(float value) => Decode(Encode(value));

    public static void Encode(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("the destination is shorter than the source", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = Encode(source[i]);
    }

    public static void Decode(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("the destination is shorter than the source", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = Decode(source[i]);
    }

    /// <summary><paramref name="into"/>[i] += decode(<paramref name="incoming"/>[i]), in float32.</summary>
    public static void AddDecoded(Span<float> into, ReadOnlySpan<ushort> incoming)
    {
        if (into.Length != incoming.Length) throw new ArgumentException("the spans differ in length", nameof(incoming));
        for (int i = 0; i < into.Length; i++) into[i] += Decode(incoming[i]);
    }

    /// <summary>Rounds every value to what bf16 can hold, in place (an owner does it to its range before sending it in bf16, so every rank ends with the same values).</summary>
    public static void RoundInPlace(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = Round(values[i]);
    }
}
