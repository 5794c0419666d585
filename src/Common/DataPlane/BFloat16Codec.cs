using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// float32 ⇄ bfloat16 for the ring's bf16 wire. Encoding rounds to nearest, ties to even (as PyTorch and the
/// hardware do); NaN stays a quiet NaN, ±∞ stays ±∞, and a finite value too large for bf16 rounds to ±∞ as in
/// IEEE arithmetic. Decoding is exact (a bf16 value is a float32 with 16 zero bits). The span forms use 256-bit
/// vectors where the CPU has them (the same arithmetic, 16 values at a time), so the wire's saved bytes are not
/// spent again on the conversion.
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
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ReadOnlySpan<uint> bits = MemoryMarshal.Cast<float, uint>(source);
            for (; i + 16 <= source.Length; i += 16)
            {
                var low = Encode(Vector256.Create(bits.Slice(i, 8)));
                var high = Encode(Vector256.Create(bits.Slice(i + 8, 8)));
                Vector256.Narrow(low, high).CopyTo(destination.Slice(i, 16));
            }
        }
        for (; i < source.Length; i++) destination[i] = Encode(source[i]);
    }

    public static void Decode(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("the destination is shorter than the source", nameof(destination));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<uint> bits = MemoryMarshal.Cast<float, uint>(destination);
            for (; i + 16 <= source.Length; i += 16)
            {
                var (low, high) = Vector256.Widen(Vector256.Create(source.Slice(i, 16)));
                Vector256.ShiftLeft(low, 16).CopyTo(bits.Slice(i, 8));
                Vector256.ShiftLeft(high, 16).CopyTo(bits.Slice(i + 8, 8));
            }
        }
        for (; i < source.Length; i++) destination[i] = Decode(source[i]);
    }

    /// <summary><paramref name="into"/>[i] += decode(<paramref name="incoming"/>[i]), in float32.</summary>
    public static void AddDecoded(Span<float> into, ReadOnlySpan<ushort> incoming)
    {
        if (into.Length != incoming.Length) throw new ArgumentException("the spans differ in length", nameof(incoming));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= into.Length; i += 16)
            {
                var (low, high) = Vector256.Widen(Vector256.Create(incoming.Slice(i, 16)));
                var a = Vector256.Create((ReadOnlySpan<float>)into.Slice(i, 8)) + Vector256.ShiftLeft(low, 16).AsSingle();
                var b = Vector256.Create((ReadOnlySpan<float>)into.Slice(i + 8, 8)) + Vector256.ShiftLeft(high, 16).AsSingle();
                a.CopyTo(into.Slice(i, 8));
                b.CopyTo(into.Slice(i + 8, 8));
            }
        }
        for (; i < into.Length; i++) into[i] += Decode(incoming[i]);
    }

    /// <summary>The scalar <see cref="Encode(float)"/>, 8 values at a time; the result is in the low 16 bits of each lane.</summary>
    private static Vector256<uint> Encode(Vector256<uint> bits)
    {
        var isNaN = Vector256.GreaterThan(bits & Vector256.Create(0x7FFF_FFFFu), Vector256.Create(0x7F80_0000u));
        var bias = Vector256.Create(0x7FFFu) + (Vector256.ShiftRightLogical(bits, 16) & Vector256.Create(1u));
        var rounded = Vector256.ShiftRightLogical(bits + bias, 16);
        var quietNaN = Vector256.ShiftRightLogical(bits, 16) | Vector256.Create(0x0040u);
        return Vector256.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    /// <summary>Rounds every value to what bf16 can hold, in place (an owner does it to its range before sending it in bf16, so every rank ends with the same values).</summary>
    public static void RoundInPlace(Span<float> values)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<uint> bits = MemoryMarshal.Cast<float, uint>(values);
            for (; i + 8 <= values.Length; i += 8)
                Vector256.ShiftLeft(Encode(Vector256.Create((ReadOnlySpan<uint>)bits.Slice(i, 8))), 16).CopyTo(bits.Slice(i, 8));
        }
        for (; i < values.Length; i++) values[i] = Round(values[i]);
    }
}
