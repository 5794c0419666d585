using FaceCluster.Common.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Tests.Torch;

[Trait("Tier", "unit")]
public class TorchSmokeTests
{
    [Fact]
    public void Torch_loads_and_one_training_step_lowers_the_loss()
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(1);
        using var scope = torch.NewDisposeScope();
        var model = nn.Sequential(("l1", nn.Linear(4, 8)), ("act", nn.ReLU()), ("l2", nn.Linear(8, 1)));
        var optimizer = optim.SGD(model.parameters(), 0.1);
        var x = torch.randn(16, 4);
        var y = x.sum(1, keepdim: true);
        float Loss() { using var _ = torch.no_grad(); return nn.functional.mse_loss(model.call(x), y).item<float>(); }
        float before = Loss();
        optimizer.zero_grad();
        var loss = nn.functional.mse_loss(model.call(x), y);
        loss.backward();
        optimizer.step();
        float after = Loss();
        Assert.True(float.IsFinite(before) && float.IsFinite(after));
        Assert.True(after < before, $"loss did not fall after one step: {before} -> {after}");
    }
}
