using System.Buffers.Binary;

namespace FaceCluster.Common.Randomness;

/// <summary>
/// xoshiro256** with an explicit, serialisable state: sampling order is part of a checkpoint, so a resumed
/// run draws the same batches as an uninterrupted one. Not for cryptography.
/// </summary>
public sealed class DeterministicRng
{
    private ulong _s0, _s1, _s2, _s3;

    public DeterministicRng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    private DeterministicRng() { }

    /// <summary>Derives an independent stream from a seed and any number of integers (step, rank, ...).</summary>
    public static DeterministicRng Derive(ulong seed, params long[] parts)
    {
        ulong h = seed ^ 0x9E3779B97F4A7C15UL;
        foreach (long p in parts)
        {
            h ^= (ulong)p + 0x9E3779B97F4A7C15UL + (h << 6) + (h >> 2);
            h = SplitMix(ref h);
        }
        return new DeterministicRng(h);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

    public ulong NextUInt64()
    {
        ulong result = Rotl(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = Rotl(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, maxExclusive), unbiased.</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive));
        ulong bound = (ulong)maxExclusive;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % bound);
        }
    }

    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public byte[] SaveState()
    {
        var bytes = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0), _s0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), _s1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), _s2);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), _s3);
        return bytes;
    }

    public static DeterministicRng FromState(ReadOnlySpan<byte> state)
    {
        if (state.Length != 32) throw new ArgumentException("an RNG state is 32 bytes", nameof(state));
        return new DeterministicRng
        {
            _s0 = BinaryPrimitives.ReadUInt64LittleEndian(state),
            _s1 = BinaryPrimitives.ReadUInt64LittleEndian(state[8..]),
            _s2 = BinaryPrimitives.ReadUInt64LittleEndian(state[16..]),
            _s3 = BinaryPrimitives.ReadUInt64LittleEndian(state[24..]),
        };
    }
}
