using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Torch;

/// <summary>
/// A convolution with few output channels, run so that its input gradient is right on every CPU.
/// <para>libtorch 2.10's oneDNN (v3.7.1) pads the output channels of a float32 convolution to its block size (16 on
/// AVX-512) and, on some hosts, its backward-data pass reads that padding unzeroed: the input gradient of a
/// convolution with fewer than 16 output channels was measured 60–100% wrong, at times NaN, on an AMD EPYC with
/// AVX-512 (forward and weight gradient were right). The decoder's last convolution (3 output channels) sits on the
/// path of every gradient of the autoencoder, so training diverged there. Here such a convolution runs with its
/// weights and bias padded by zero output channels to <see cref="BlockChannels"/> and the output narrowed back: the
/// same result and the same parameters (and checkpoints), and oneDNN never pads. Other devices run it as it is.</para>
/// </summary>
public static class NarrowConvolution
{
    /// <summary>oneDNN's widest channel block (AVX-512: 16 floats).</summary>
    public const int BlockChannels = 16;

    /// <summary>
    /// <paramref name="conv"/> (stride 1, no groups, <paramref name="padding"/> on every side) applied to
    /// <paramref name="input"/>; the padded form on the CPU when it has fewer than <see cref="BlockChannels"/> output channels.
    /// </summary>
    public static Tensor Apply(Conv2d conv, Tensor input, long padding)
    {
        var weight = conv.weight ?? throw new InvalidOperationException("the convolution has no weight");
        long outChannels = weight.shape[0];
        if (outChannels >= BlockChannels || input.device_type != DeviceType.CPU)
            return conv.call(input);
        using var scope = NewDisposeScope();
        long missing = BlockChannels - outChannels;
        var padded = cat([weight, zeros([missing, .. weight.shape[1..]], weight.dtype, weight.device)], 0);
        var bias = conv.bias is { } b ? cat([b, zeros(missing, b.dtype, b.device)], 0) : null;
        var output = nn.functional.conv2d(input, padded, bias, padding: [padding, padding]);
        return output.narrow(1, 0, outChannels).MoveToOuterDisposeScope();
    }
}
