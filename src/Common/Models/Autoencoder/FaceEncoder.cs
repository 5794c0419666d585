using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Autoencoder;

/// <summary>
/// The shared encoder of the faceswap-style autoencoder: stride-2 5x5 convolutions, a dense bottleneck,
/// a dense expansion to a spatial code and one upscale. One encoder serves every identity, and it can be
/// reused across runs: a run can start from another run's encoder (`--init-encoder`), so the encoder is what runs have in common.
/// </summary>
public sealed class FaceEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _convs = new();
    private readonly LeakyActivation _act;
    private readonly Linear _toLatent;
    private readonly Linear _fromLatent;
    private readonly UpscaleBlock _upscale;
    private readonly int _codeChannels;
    private readonly int _codeSize;

    public FaceEncoder(ModelPreset preset) : base("encoder")
    {
        int inChannels = 3;
        foreach (int c in preset.EncoderChannels)
        {
            _convs.Add(nn.Conv2d(inChannels, c, 5, stride: 2, padding: 2));
            inChannels = c;
        }
        _act = new LeakyActivation(0.1);
        _codeSize = preset.BottleneckSize;
        _codeChannels = preset.BottleneckChannels;
        _toLatent = nn.Linear(inChannels * _codeSize * _codeSize, preset.Latent);
        _fromLatent = nn.Linear(preset.Latent, _codeChannels * _codeSize * _codeSize);
        _upscale = new UpscaleBlock("upscale", _codeChannels, OutputChannels(preset));
        RegisterComponents();
    }

    /// <summary>Channels of the code handed to the decoders (at twice the bottleneck's spatial size).</summary>
    public static int OutputChannels(ModelPreset preset) => preset.BottleneckChannels / 2;

    public override Tensor forward(Tensor input) => Encode(input).Code;

    /// <summary>The code handed to the decoders and the bottleneck's latent vector it is made from ([N, Latent]).</summary>
    public (Tensor Code, Tensor Latent) Encode(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input;
        foreach (var conv in _convs)
            x = _act.call(conv.call(x));
        var latent = _toLatent.call(x.flatten(1));
        x = _fromLatent.call(latent).view(-1, _codeChannels, _codeSize, _codeSize);
        var code = _upscale.call(x);
        return (code.MoveToOuterDisposeScope(), latent.MoveToOuterDisposeScope());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _convs.Dispose(); _act.Dispose(); _toLatent.Dispose(); _fromLatent.Dispose(); _upscale.Dispose();
        }
        base.Dispose(disposing);
    }
}
