using FaceCluster.Common.Models.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
public class PerSampleLossTests
{
    [Fact]
    public void The_loss_is_l1_plus_the_weighted_ssim_term_per_sample()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(7);
        var x = rand([3, 3, 16, 16], generator: gen);
        var y = rand([3, 3, 16, 16], generator: gen);
        using var loss = new PerSampleLoss(ssimWeight: 0.5);
        var got = loss.Compute(x, y).data<float>().ToArray();

        // The same formula written plainly: mean |x - y| + 0.5 · (1 - SSIM) / 2, SSIM over an 11×11 Gaussian window.
        var w = Gaussian11().expand(3, 1, 11, 11);
        Tensor F(Tensor t) => nn.functional.conv2d(t, w, padding: [5, 5], groups: 3);
        var mx = F(x); var my = F(y);
        var sx = F(x * x) - mx * mx; var sy = F(y * y) - my * my; var sxy = F(x * y) - mx * my;
        var map = (2 * mx * my + 1e-4) * (2 * sxy + 9e-4) / ((mx * mx + my * my + 1e-4) * (sx + sy + 9e-4));
        var expected = ((x - y).abs().flatten(1).mean([1]) + (1 - map.flatten(1).mean([1])) * 0.25).data<float>().ToArray();
        Assert.Equal(3, got.Length);
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], got[i], 5);
        Assert.All(got, v => Assert.InRange(v, 0.2f, 1.5f));
    }

    private static Tensor Gaussian11()
    {
        var g = new float[11];
        double sum = 0;
        for (int i = 0; i < 11; i++) { g[i] = (float)Math.Exp(-Math.Pow(i - 5, 2) / (2 * 1.5 * 1.5)); sum += g[i]; }
        for (int i = 0; i < 11; i++) g[i] = (float)(g[i] / sum);
        var v = tensor(g);
        return v.unsqueeze(1).matmul(v.unsqueeze(0));
    }
}
