using TorchSharp;
using FaceCluster.Common.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Autoencoder;

/// <summary>One identity's decoder: upscale blocks back to the input size, then a 5x5 convolution and a sigmoid.</summary>
public sealed class FaceDecoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<UpscaleBlock> _upscales = new();
    private const long ImagePadding = 2;
    private readonly Conv2d _toImage;

    public FaceDecoder(string name, ModelPreset preset) : base(name)
    {
        int inChannels = FaceEncoder.OutputChannels(preset);
        for (int i = 0; i < preset.DecoderChannels.Length; i++)
        {
            _upscales.Add(new UpscaleBlock($"up{i}", inChannels, preset.DecoderChannels[i]));
            inChannels = preset.DecoderChannels[i];
        }
        _toImage = nn.Conv2d(inChannels, 3, 5, padding: ImagePadding);
        RegisterComponents();
    }

    public override Tensor forward(Tensor code)
    {
        using var scope = NewDisposeScope();
        Tensor x = code;
        foreach (var up in _upscales)
            x = up.call(x);
        return torch.sigmoid(NarrowConvolution.Apply(_toImage, x, ImagePadding)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _upscales.Dispose(); _toImage.Dispose(); }
        base.Dispose(disposing);
    }
}
