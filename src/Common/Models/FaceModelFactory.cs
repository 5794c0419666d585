using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Quality;
using FaceCluster.Common.Models.Triplet;
using TorchSharp;

namespace FaceCluster.Common.Models;

/// <summary>
/// Builds a model of any family from what the run spec carries. Every replica builds its model on the CPU
/// from the same seed, so all replicas start bit-identical before they move to their devices.
/// </summary>
public static class FaceModelFactory
{
    public static ModelKind ParseKind(string text) => text.Trim().ToLowerInvariant() switch
    {
        "autoencoder" or "faceswap" => ModelKind.Autoencoder,
        "triplet" => ModelKind.Triplet,
        "quality" => ModelKind.Quality,
        _ => throw new FaceClusterException($"--model '{text}' is not a model: use autoencoder, triplet or quality", ExitCodes.UsageError),
    };

    /// <summary>libtorch's generator is global: two workers of one process building at once must not interleave.</summary>
    private static readonly object SeedGate = new();

    public static IFaceModel Create(ModelKind kind, ModelPreset preset, IReadOnlyList<string> labels, ulong seed, double ssimWeight = 0)
    {
        lock (SeedGate) return CreateSeeded(kind, preset, labels, seed, ssimWeight);
    }

    private static IFaceModel CreateSeeded(ModelKind kind, ModelPreset preset, IReadOnlyList<string> labels, ulong seed, double ssimWeight)
    {
        torch.manual_seed(unchecked((long)seed));
        return kind switch
        {
            ModelKind.Autoencoder => new FaceSwapAutoencoder(preset, labels, ssimWeight),
            ModelKind.Triplet => new TripletFaceModel(preset, labels, seed),
            ModelKind.Quality => new QualityFaceModel(preset, labels),
            _ => throw new FaceClusterException($"the {kind} model is not available in this build"),
        };
    }
}
