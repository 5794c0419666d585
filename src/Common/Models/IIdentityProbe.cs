using static TorchSharp.torch;

namespace FaceCluster.Common.Models;

/// <summary>
/// A model that can say how much a face looks like its own identity to it. The ledger's curation uses this beside
/// the training loss: a face of the wrong person, a bad crop, an occluded face or something that is not a face is
/// reconstructed by its own identity's decoder hardly better than by another identity's, while a good face of the
/// identity is reconstructed far better by its own.
/// </summary>
public interface IIdentityProbe
{
    /// <summary>
    /// Per sample, without gradients and without augmentation: the loss through its own identity's decoder and the
    /// lowest loss through any other identity's decoder (+∞ with a single identity); and, where the model has one, the
    /// encoder's latent vector of each face (where the shared encoder places it, independent of any decoder).
    /// </summary>
    IdentityProbeLosses ProbeIdentity(Tensor inputs, long[] labels);
}

/// <summary>Per-sample losses of an identity probe, in the order of the inputs.</summary>
public sealed record IdentityProbeLosses(float[] Own, float[] BestOther)
{
    /// <summary>Row-major [samples × <see cref="LatentWidth"/>]: each face's latent vector; empty when the model reports none.</summary>
    public float[] Latents { get; init; } = [];

    /// <summary>Floats per face in <see cref="Latents"/> (0 without latents).</summary>
    public int LatentWidth { get; init; }
}
