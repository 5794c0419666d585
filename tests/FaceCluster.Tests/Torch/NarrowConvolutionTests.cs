using FaceCluster.Common.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Tests.Torch;

[Trait("Tier", "unit")]
public class NarrowConvolutionTests
{
    /// <summary>Output, input gradient and weight gradient of a 16→3 5x5 convolution, and the same in float64 (another kernel: the reference).</summary>
    private static (double Output, double InputGrad, double WeightGrad) RelativeErrors(int batch, int inChannels, int outChannels)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(17);
        using var conv = nn.Conv2d(inChannels, outChannels, 5, padding: 2);
        var x = torch.randn([batch, inChannels, 32, 32], generator: generator).requires_grad_(true);
        var y = NarrowConvolution.Apply(conv, x, 2);
        var g = torch.randn(y.shape, generator: generator);
        (y * g).sum().backward();

        var x64 = x.detach().to(ScalarType.Float64).requires_grad_(true);
        var w64 = conv.weight!.detach().to(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv2d(x64, w64, conv.bias!.detach().to(ScalarType.Float64), padding: [2, 2]);
        (y64 * g.to(ScalarType.Float64)).sum().backward();

        static double Relative(Tensor got, Tensor want) =>
            (got.to(ScalarType.Float64) - want).abs().max().item<double>() / Math.Max(1e-12, want.abs().max().item<double>());
        return (Relative(y.detach(), y64.detach()), Relative(x.grad!, x64.grad!), Relative(conv.weight!.grad!, w64.grad!));
    }

    [Theory]
    [InlineData(2, 16, 3)]
    [InlineData(8, 32, 3)]
    [InlineData(4, 16, 1)]
    [InlineData(4, 8, 16)]
    public void A_convolution_with_few_output_channels_has_the_output_and_gradients_of_a_float64_reference(int batch, int inChannels, int outChannels)
    {
        var (output, inputGrad, weightGrad) = RelativeErrors(batch, inChannels, outChannels);
        Assert.True(output < 1e-5, $"output differs by {output:E2} of its largest value");
        Assert.True(inputGrad < 1e-5, $"input gradient differs by {inputGrad:E2} of its largest value");
        Assert.True(weightGrad < 1e-5, $"weight gradient differs by {weightGrad:E2} of its largest value");
    }
}
