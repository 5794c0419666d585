using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Triplet;

/// <summary>The embedding network: a <see cref="ConvTrunk"/>, a dense layer to <see cref="Dimensions"/> and L2 normalisation.</summary>
public sealed class EmbeddingNetwork : nn.Module<Tensor, Tensor>
{
    /// <summary>FaceNet and OpenFace embed into 128 dimensions.</summary>
    public const int Dimensions = 128;

    private readonly ConvTrunk _trunk;
    private readonly Linear _toEmbedding;

    public EmbeddingNetwork(ModelPreset preset) : base("embedding")
    {
        _trunk = new ConvTrunk("trunk", preset);
        _toEmbedding = nn.Linear(_trunk.OutputFeatures, Dimensions);
        RegisterComponents();
    }

    /// <summary>[N,3,H,W] → [N,128], each row of unit length.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var e = _toEmbedding.call(_trunk.call(input));
        return nn.functional.normalize(e, p: 2, dim: 1, eps: 1e-8).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _trunk.Dispose(); _toEmbedding.Dispose(); }
        base.Dispose(disposing);
    }
}
