using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models;

/// <summary>
/// The convolutional feature extractor of the embedding and quality models: per entry of the preset's
/// <see cref="ModelPreset.EncoderChannels"/> a 3x3 convolution and a stride-2 3x3 convolution, each followed by a
/// leaky ReLU, then flattened. Inputs in [0, 1] are centred to [-0.5, 0.5] first. No batch normalisation: its
/// running statistics would differ between replicas that see different local batches.
/// </summary>
public sealed class ConvTrunk : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _convs = new();
    private readonly LeakyActivation _act;

    public ConvTrunk(string name, ModelPreset preset) : base(name)
    {
        int inChannels = 3;
        foreach (int c in preset.EncoderChannels)
        {
            int mid = Math.Max(16, c / 2);
            _convs.Add(nn.Conv2d(inChannels, mid, 3, padding: 1));
            _convs.Add(nn.Conv2d(mid, c, 3, stride: 2, padding: 1));
            inChannels = c;
        }
        _act = new LeakyActivation(0.1);
        int side = preset.ImageSize >> preset.EncoderChannels.Length;
        OutputFeatures = inChannels * side * side;
        RegisterComponents();
    }

    /// <summary>Features per image after flattening.</summary>
    public int OutputFeatures { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input - 0.5;
        foreach (var conv in _convs)
            x = _act.call(conv.call(x));
        return x.flatten(1).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _convs.Dispose(); _act.Dispose(); }
        base.Dispose(disposing);
    }
}
