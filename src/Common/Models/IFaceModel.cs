using FaceCluster.Common.FaceSet;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models;

/// <summary>
/// A trainable face model, as the cluster sees it. Nothing in the control plane, data plane or ledger knows
/// which family a model is: they see per-sample losses, one flat gradient buffer and named components.
/// </summary>
public interface IFaceModel : IDisposable
{
    ModelKind Kind { get; }
    ModelPreset Preset { get; }

    /// <summary>The labels a sample's label index refers to (identities, or classes for the quality model).</summary>
    IReadOnlyList<string> Labels { get; }

    /// <summary>The module that owns every parameter, in a stable order.</summary>
    nn.Module Root { get; }

    /// <summary>The named parts saved as separate checkpoint files.</summary>
    IReadOnlyList<ModelComponent> Components { get; }

    BatchKind BatchKind { get; }

    /// <summary>How the worker composes this model's local batches (shuffled, or P identities × K images).</summary>
    BatchComposition BatchComposition { get; }

    /// <summary>
    /// Forward pass and loss with reduction none: one loss per sample, graph attached.
    /// <paramref name="targets"/> is null for <see cref="BatchKind.Plain"/> models.
    /// </summary>
    Tensor PerSampleLoss(Tensor inputs, Tensor? targets, long[] labels);
}
