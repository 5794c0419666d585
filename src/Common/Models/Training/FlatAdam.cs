using System.Numerics;
using System.Runtime.InteropServices;

namespace FaceCluster.Common.Models.Training;

/// <summary>
/// Adam over one flat float32 parameter vector, one range at a time: the update of a range reads the parameters and
/// the (summed) gradients of that range only. That is what lets the ring shard the update: each rank updates the
/// range it owns after the reduce-scatter, and the all-gather hands the new parameters to every rank (the optimizer
/// state sharding of ZeRO stage 1 / PyTorch's ZeroRedundancyOptimizer, here for speed: a slow rank updates a small
/// range). One fused pass (SIMD) per range; the same formula as torch.optim.Adam without weight decay:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
/// <para>
/// Every rank keeps the full moment vectors; between collective updates only the owned range is current, and the
/// ranks exchange their ranges at the end of a segment (<see cref="FirstMoments"/>, <see cref="SecondMoments"/>).
/// <see cref="SaveBoundary"/> / <see cref="RestoreBoundary"/> keep the moments of the last exchange, so that replicas
/// that abandon a segment all fall back to the same state.
/// </para>
/// </summary>
public sealed class FlatAdam
{
    private const uint Magic = 0x4D444146; // "FADM"
    private const int FormatVersion = 1;
    private readonly float[] _m;
    private readonly float[] _v;
    private float[]? _boundaryM;
    private float[]? _boundaryV;

    public FlatAdam(int count, TrainerOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        options.Validate();
        Options = options;
        _m = new float[count];
        _v = new float[count];
    }

    public TrainerOptions Options { get; }

    public int Count => _m.Length;

    /// <summary>First moments (exp_avg), one per parameter.</summary>
    public float[] FirstMoments => _m;

    /// <summary>Second moments (exp_avg_sq), one per parameter.</summary>
    public float[] SecondMoments => _v;

    /// <summary>
    /// Update number <paramref name="t"/> (1-based) of [<paramref name="offset"/>, +<paramref name="length"/>):
    /// reads <paramref name="parameters"/> and the gradients in <paramref name="buffer"/>, writes the new parameters
    /// into <paramref name="buffer"/> (so the all-gather that follows sends them) and the new moments in place.
    /// <paramref name="parameters"/> is not written: the update is committed by copying the buffer once every range is done.
    /// </summary>
    public void UpdateRange(ReadOnlySpan<float> parameters, Span<float> buffer, int offset, int length, long t)
    {
        if (parameters.Length != Count || buffer.Length < Count) throw new ArgumentException($"the parameter and gradient vectors must hold {Count} values");
        if (offset < 0 || length < 0 || offset > Count - length) throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) is outside [0, {Count})");
        if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, "updates are numbered from 1");
        double beta1 = Options.Beta1, beta2 = Options.Beta2;
        float b1 = (float)beta1, b2 = (float)beta2, c1 = (float)(1 - beta1), c2 = (float)(1 - beta2);
        float stepSize = (float)(Options.LearningRate / (1 - Math.Pow(beta1, t)));
        float invRootBias2 = (float)(1 / Math.Sqrt(1 - Math.Pow(beta2, t)));
        float eps = (float)Options.Epsilon;

        var p = parameters.Slice(offset, length);
        var g = buffer.Slice(offset, length);
        var m = _m.AsSpan(offset, length);
        var v = _v.AsSpan(offset, length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && length >= Vector<float>.Count)
        {
            var vp = MemoryMarshal.Cast<float, Vector<float>>(p);
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            var vm = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            Vector<float> vb1 = new(b1), vb2 = new(b2), vc1 = new(c1), vc2 = new(c2), vStep = new(stepSize), vRoot = new(invRootBias2), vEps = new(eps);
            for (int k = 0; k < vg.Length; k++)
            {
                var grad = vg[k];
                var mk = vb1 * vm[k] + vc1 * grad;
                var vk = vb2 * vv[k] + vc2 * grad * grad;
                vm[k] = mk;
                vv[k] = vk;
                vg[k] = vp[k] - vStep * mk / (Vector.SquareRoot(vk) * vRoot + vEps);
            }
            i = vg.Length * Vector<float>.Count;
        }
        for (; i < length; i++)
        {
            float grad = g[i];
            float mk = b1 * m[i] + c1 * grad;
            float vk = b2 * v[i] + c2 * grad * grad;
            m[i] = mk;
            v[i] = vk;
            g[i] = p[i] - stepSize * mk / (MathF.Sqrt(vk) * invRootBias2 + eps);
        }
    }

    /// <summary>Keeps a copy of the moments (after they were exchanged, when every range is current).</summary>
    public void SaveBoundary()
    {
        _boundaryM ??= new float[Count];
        _boundaryV ??= new float[Count];
        _m.CopyTo(_boundaryM, 0);
        _v.CopyTo(_boundaryV, 0);
    }

    /// <summary>Returns the moments to the last <see cref="SaveBoundary"/> (no-op before the first).</summary>
    public bool RestoreBoundary()
    {
        if (_boundaryM is null || _boundaryV is null) return false;
        _boundaryM.CopyTo(_m, 0);
        _boundaryV.CopyTo(_v, 0);
        return true;
    }

    /// <summary>The moments in a versioned little-endian format: magic, version, count, m[], v[].</summary>
    public byte[] Save()
    {
        var bytes = new byte[12 + 8L * Count];
        var span = bytes.AsSpan();
        BitConverter.TryWriteBytes(span, Magic);
        BitConverter.TryWriteBytes(span[4..], FormatVersion);
        BitConverter.TryWriteBytes(span[8..], Count);
        MemoryMarshal.AsBytes(_m.AsSpan()).CopyTo(span[12..]);
        MemoryMarshal.AsBytes(_v.AsSpan()).CopyTo(span[(12 + 4 * Count)..]);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("optimizer state is stored little-endian");
        return bytes;
    }

    /// <summary>True when <paramref name="bytes"/> starts like <see cref="Save"/>'s output.</summary>
    public static bool IsFlatAdamState(ReadOnlySpan<byte> bytes) => bytes.Length >= 4 && BitConverter.ToUInt32(bytes) == Magic;

    /// <summary>Adopts moments written by <see cref="Save"/>; <paramref name="source"/> names them in errors.</summary>
    public void Load(ReadOnlySpan<byte> bytes, string source)
    {
        if (!IsFlatAdamState(bytes) || bytes.Length < 12) throw new FaceClusterException($"{source}: not a FaceCluster optimizer state");
        int version = BitConverter.ToInt32(bytes[4..]);
        if (version != FormatVersion) throw new FaceClusterException($"{source}: optimizer state format {version}, this build reads {FormatVersion}");
        int count = BitConverter.ToInt32(bytes[8..]);
        if (count != Count) throw new FaceClusterException($"{source}: the optimizer state holds {count} values; this model has {Count} parameters (another preset or shape?)");
        if (bytes.Length != 12 + 8L * count) throw new FaceClusterException($"{source}: the optimizer state is {bytes.Length} bytes, expected {12 + 8L * count} (truncated?)");
        bytes.Slice(12, 4 * count).CopyTo(MemoryMarshal.AsBytes(_m.AsSpan()));
        bytes.Slice(12 + 4 * count, 4 * count).CopyTo(MemoryMarshal.AsBytes(_v.AsSpan()));
        SaveBoundary();
    }

    /// <summary>Adopts moments given per parameter tensor (from an optimizer state of an older format).</summary>
    public void LoadMoments(ReadOnlySpan<float> m, ReadOnlySpan<float> v, int offset)
    {
        m.CopyTo(_m.AsSpan(offset));
        v.CopyTo(_v.AsSpan(offset));
    }

    /// <summary>Zeroes the moments (a fresh optimizer).</summary>
    public void Reset()
    {
        Array.Clear(_m);
        Array.Clear(_v);
        SaveBoundary();
    }
}
