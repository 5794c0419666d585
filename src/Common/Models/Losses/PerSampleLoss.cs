using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Losses;

/// <summary>
/// Reconstruction losses with reduction "none": one value per sample. This is the quantity the ledger tracks.
/// loss_i = mean |x_i - y_i| + SsimWeight * (1 - SSIM(x_i, y_i)) / 2
/// </summary>
public sealed class PerSampleLoss : IDisposable
{
    private readonly double _ssimWeight;
    private readonly Scalar _halfWeight;
    private Tensor? _window;

    // TorchSharp 0.107 turns a number passed to an operator into a Scalar it never disposes (and Tensor.add(t) into
    // add(t, 1)); the finalizer thread may free one while libtorch still reads it (seen as "Expected false to be true …
    // toFloat" under load; dotnet/TorchSharp#1434). The loss, run every step, uses scalars it holds instead.
    private static readonly Scalar One = 1.0, Two = 2.0, C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;

    public PerSampleLoss(double ssimWeight = 0.0)
    {
        if (ssimWeight < 0) throw new ArgumentOutOfRangeException(nameof(ssimWeight), "must be >= 0");
        _ssimWeight = ssimWeight;
        _halfWeight = ssimWeight / 2;
    }

    public double SsimWeight => _ssimWeight;

    /// <summary>[N,C,H,W] x [N,C,H,W] → [N].</summary>
    public Tensor Compute(Tensor prediction, Tensor target)
    {
        using var scope = NewDisposeScope();
        var mae = prediction.sub(target).abs().flatten(1).mean([1]);
        if (_ssimWeight == 0) return mae.MoveToOuterDisposeScope();
        var ssim = Ssim(prediction, target);
        // mae + (1 - ssim) · w/2, with the scalars held for the whole call (see One).
        return mae.add(ssim.neg().add(One, One).mul(_halfWeight), One).MoveToOuterDisposeScope();
    }

    /// <summary>Mean structural similarity per sample, 11x11 Gaussian window (sigma 1.5), images in [0,1].</summary>
    public Tensor Ssim(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        long channels = x.shape[1];
        var w = Window(channels, x.device, x.dtype);
        int pad = (int)(w.shape[2] / 2);
        Tensor Filter(Tensor t) => nn.functional.conv2d(t, w, padding: [pad, pad], groups: channels);
        var muX = Filter(x);
        var muY = Filter(y);
        var muX2 = muX * muX;
        var muY2 = muY * muY;
        var muXY = muX * muY;
        var sigX = Filter(x * x).sub(muX2);
        var sigY = Filter(y * y).sub(muY2);
        var sigXY = Filter(x * y).sub(muXY);
        var numerator = muXY.mul(Two).add(C1, One) * sigXY.mul(Two).add(C2, One);
        var denominator = muX2.add(muY2, One).add(C1, One) * sigX.add(sigY, One).add(C2, One);
        var map = numerator / denominator;
        return map.flatten(1).mean([1]).MoveToOuterDisposeScope();
    }

    private Tensor Window(long channels, Device device, ScalarType dtype)
    {
        if (_window is not null && _window.shape[0] == channels && _window.device == device && _window.dtype == dtype)
            return _window;
        _window?.Dispose();
        const int size = 11;
        const double sigma = 1.5;
        var g = new float[size];
        double sum = 0;
        for (int i = 0; i < size; i++) { g[i] = (float)Math.Exp(-Math.Pow(i - size / 2, 2) / (2 * sigma * sigma)); sum += g[i]; }
        for (int i = 0; i < size; i++) g[i] = (float)(g[i] / sum);
        using var g1 = torch.tensor(g);
        using var g2 = g1.unsqueeze(1).matmul(g1.unsqueeze(0));
        _window = g2.expand(channels, 1, size, size).contiguous().to(dtype).to(device).DetachFromDisposeScope();
        return _window;
    }

    public void Dispose()
    {
        _window?.Dispose();
        _halfWeight.Dispose();
    }
}
