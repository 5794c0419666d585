using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Autoencoder;

/// <summary>faceswap's upscale: a 3x3 convolution to 4x the channels, leaky ReLU, then a 2x pixel shuffle.</summary>
public sealed class UpscaleBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _conv;
    private readonly LeakyActivation _act;
    private readonly PixelShuffle _shuffle;

    public UpscaleBlock(string name, int inChannels, int outChannels) : base(name)
    {
        _conv = nn.Conv2d(inChannels, outChannels * 4, 3, padding: 1);
        _act = new LeakyActivation(0.1);
        _shuffle = nn.PixelShuffle(2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _shuffle.call(_act.call(_conv.call(input)));

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _conv.Dispose(); _act.Dispose(); _shuffle.Dispose(); }
        base.Dispose(disposing);
    }
}
