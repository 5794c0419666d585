using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models;

/// <summary>
/// Leaky ReLU whose slope is a <see cref="Scalar"/> made for each call and disposed after it. TorchSharp's
/// <c>nn.LeakyReLU</c> keeps one native Scalar for the module's life; when the module is built inside a dispose
/// scope that Scalar is freed with the scope and later calls read freed memory, which crashed a long run
/// (libtorch's <c>toFloat</c> on a freed Scalar, after some 2,000 steps). Owning the Scalar per call has no such
/// lifetime to get wrong.
/// </summary>
public sealed class LeakyActivation : nn.Module<Tensor, Tensor>
{
    private readonly double _slope;

    public LeakyActivation(double slope) : base(nameof(LeakyActivation))
    {
        _slope = slope;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var slope = _slope.ToScalar();
        var result = input.leaky_relu(slope);
        GC.KeepAlive(slope);
        return result;
    }
}
