using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Training;

/// <summary>
/// <see cref="FlatAdam"/>'s update with its moments in device memory, computed by libtorch's kernels on the device:
/// what a GPU worker runs, so that neither the moments nor the update ever cross the bus (the host update of
/// ZeRO-Offload wins only where the host is the device, a CPU worker).
/// <para>
/// The operations and their order are FlatAdam's, one rounding each, with no fused multiply-add:
/// m ← β₁m + (1−β₁)g, v ← β₂v + ((1−β₂)g)g, p′ ← p − (s·m) / (√v·r + ε) with s = lr/(1−β₁ᵗ) and r = 1/√(1−β₂ᵗ),
/// every constant rounded to float32 as FlatAdam rounds it. The moments come out bit for bit as FlatAdam's (tested on a
/// CPU). The new parameters may differ by a unit in the last place: libtorch's float32 square root is not correctly
/// rounded (on this project's CPU build one value in six of a test vector is 1 ulp off IEEE's √, which FlatAdam uses), and
/// a GPU's need not match either. A ring that mixes placements stays consistent all the same, because each range is
/// updated by one rank only and then all-gathered: every replica adopts the same bits.
/// </para>
/// </summary>
public sealed class DeviceAdam : IDisposable
{
    private readonly Tensor _m;
    private readonly Tensor _v;
    private bool _disposed;

    public DeviceAdam(long count, TrainerOptions options, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        options.Validate();
        Options = options;
        Count = count;
        _m = torch.zeros(count, ScalarType.Float32, device);
        _v = torch.zeros(count, ScalarType.Float32, device);
    }

    public TrainerOptions Options { get; }

    public long Count { get; }

    /// <summary>
    /// Update number <paramref name="t"/> of [<paramref name="offset"/>, +<paramref name="length"/>), as
    /// <see cref="FlatAdam.UpdateRange"/>: reads <paramref name="parameters"/> and the gradients in
    /// <paramref name="buffer"/>, writes the new parameters into <paramref name="buffer"/> and the moments in place.
    /// Both vectors are flat float32 tensors on this optimizer's device.
    /// </summary>
    public void UpdateRange(Tensor parameters, Tensor buffer, long offset, long length, long t)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (parameters.numel() != Count || buffer.numel() < Count) throw new ArgumentException($"the parameter and gradient vectors must hold {Count} values");
        if (offset < 0 || length < 0 || offset > Count - length) throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) is outside [0, {Count})");
        if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, "updates are numbered from 1");
        if (length == 0) return;
        double beta1 = Options.Beta1, beta2 = Options.Beta2;
        // The constants exactly as FlatAdam computes them (float32 values; a Scalar carries them exactly).
        using var b1 = ((float)beta1).ToScalar();
        using var b2 = ((float)beta2).ToScalar();
        using var c1 = ((float)(1 - beta1)).ToScalar();
        using var c2 = ((float)(1 - beta2)).ToScalar();
        using var stepSize = ((float)(Options.LearningRate / (1 - Math.Pow(beta1, t)))).ToScalar();
        using var invRootBias2 = ((float)(1 / Math.Sqrt(1 - Math.Pow(beta2, t)))).ToScalar();
        using var eps = ((float)Options.Epsilon).ToScalar();

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var p = parameters.narrow(0, offset, length);
        var g = buffer.narrow(0, offset, length);
        var m = _m.narrow(0, offset, length);
        var v = _v.narrow(0, offset, length);
        m.mul_(b1).add_(g.mul(c1));              // β₁m + (1−β₁)g
        v.mul_(b2).add_(g.mul(c2).mul_(g));      // β₂v + ((1−β₂)g)g
        var step = m.mul(stepSize).div_(v.sqrt().mul_(invRootBias2).add_(eps));
        g.copy_(p.sub(step));
    }

    /// <summary>Copies the moments into host arrays (for a checkpoint, an exchange with the ring or a boundary).</summary>
    public void CopyTo(float[] m, float[] v)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (m.Length != Count || v.Length != Count) throw new ArgumentException($"the moment vectors must hold {Count} values");
        using var scope = torch.NewDisposeScope();
        torch.frombuffer(m, ScalarType.Float32).copy_(_m);
        torch.frombuffer(v, ScalarType.Float32).copy_(_v);
    }

    /// <summary>Adopts moments from host arrays (a checkpoint, an exchange with the ring, a restored boundary).</summary>
    public void CopyFrom(float[] m, float[] v)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (m.Length != Count || v.Length != Count) throw new ArgumentException($"the moment vectors must hold {Count} values");
        using var scope = torch.NewDisposeScope();
        _m.copy_(torch.frombuffer(m, ScalarType.Float32));
        _v.copy_(torch.frombuffer(v, ScalarType.Float32));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _m.Dispose();
        _v.Dispose();
    }
}
