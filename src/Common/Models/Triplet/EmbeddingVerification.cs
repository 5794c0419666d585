using FaceCluster.Common.FaceSet;
using TorchSharp;

namespace FaceCluster.Common.Models.Triplet;

/// <summary>
/// Verification accuracy of a triplet model on held-out images: embeds them (eval mode, in chunks, on the model's
/// device) and runs <see cref="VerificationEvaluator"/>. Cheap enough to call at the end of every cycle.
/// </summary>
public static class EmbeddingVerification
{
    /// <summary>Embeddings of <paramref name="images"/>, row-major [N,128].</summary>
    public static float[] Embed(TripletFaceModel model, LoadedImages images, int chunk = 128)
    {
        var device = model.parameters().First().device;
        var result = new float[images.Count * EmbeddingNetwork.Dimensions];
        for (int start = 0; start < images.Count; start += chunk)
        {
            int n = Math.Min(chunk, images.Count - start);
            using var scope = torch.NewDisposeScope();
            var host = torch.tensor(images.Slice(start, n).ToArray(), [n, 3, images.ImageSize, images.ImageSize]);
            model.Embed(host.to(device)).CopyTo(result, start * EmbeddingNetwork.Dimensions);
        }
        return result;
    }

    /// <summary>k-fold verification accuracy over same/different pairs of <paramref name="images"/> (labels: one per image).</summary>
    public static VerificationResult Evaluate(TripletFaceModel model, LoadedImages images, IReadOnlyList<long> labels,
        int folds = VerificationEvaluator.DefaultFolds, int maxPairsPerKind = VerificationEvaluator.DefaultPairsPerKind, ulong seed = 1)
    {
        if (labels.Count != images.Count) throw new ArgumentException($"{labels.Count} labels for {images.Count} images", nameof(labels));
        var embeddings = Embed(model, images);
        var pairs = VerificationEvaluator.MakePairs(labels, maxPairsPerKind, seed);
        return VerificationEvaluator.Evaluate(embeddings, EmbeddingNetwork.Dimensions, pairs, folds, seed);
    }
}
