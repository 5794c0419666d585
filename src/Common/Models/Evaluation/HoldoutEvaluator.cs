using FaceCluster.Common.IO;
using FaceCluster.Common.FaceSet;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Evaluation;

/// <summary>One held-out image: its file and the index of its label (identity) in the model's labels.</summary>
public sealed record HoldoutImage(string Path, int Label);

/// <summary>The model's per-sample loss on held-out images: overall and per label.</summary>
public sealed record HoldoutResult(int Images, double MeanLoss, IReadOnlyDictionary<string, double> MeanLossByLabel, IReadOnlyList<string> Unreadable);

/// <summary>
/// Measures a model on clean held-out images, with the same per-sample loss it trains on but without
/// augmentation (a reconstruction model reconstructs the image itself). No gradients; the model is put in eval mode
/// and back.
/// </summary>
public static class HoldoutEvaluator
{
    public static HoldoutResult Evaluate(IFaceModel model, IReadOnlyList<HoldoutImage> images, Device? device = null, int batchSize = 64)
    {
        if (images.Count == 0) throw new FaceClusterException("there are no held-out images to evaluate on");
        int size = model.Preset.ImageSize, stride = 3 * size * size;
        var dev = device ?? CPU;
        var sums = new double[model.Labels.Count];
        var counts = new int[model.Labels.Count];
        var unreadable = new List<string>();
        double total = 0; int n = 0;
        bool wasTraining = model.Root.training;
        model.Root.eval();
        try
        {
            for (int start = 0; start < images.Count; start += batchSize)
            {
                var chunk = images.Skip(start).Take(batchSize).ToList();
                var pixels = new float[chunk.Count * stride];
                var labels = new List<long>(chunk.Count);
                int filled = 0;
                foreach (var image in chunk)
                {
                    if ((uint)image.Label >= (uint)model.Labels.Count)
                        throw new FaceClusterException($"{image.Path}: label index {image.Label} is not one of the model's {model.Labels.Count} labels");
                    try
                    {
                        using var mat = FaceImageDecoder.Decode(RegularFiles.ReadImage(image.Path), size, image.Path);
                        ImagePlanes.CopyToPlanes(mat, pixels, filled * stride);
                        labels.Add(image.Label);
                        filled++;
                    }
                    catch (Exception e) when (e is FaceImageException or IOException or UnauthorizedAccessException)
                    {
                        unreadable.Add($"{image.Path}: {e.Message}");
                    }
                }
                if (filled == 0) continue;
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var inputs = tensor(pixels.AsSpan(0, filled * stride).ToArray(), [filled, 3, size, size]).to(dev);
                var targets = model.BatchKind == BatchKind.Reconstruction ? inputs : null;
                var label = labels.ToArray();
                var losses = model.PerSampleLoss(inputs, targets, label).to(CPU).data<float>().ToArray();
                for (int i = 0; i < filled; i++)
                {
                    if (!float.IsFinite(losses[i])) continue;
                    sums[label[i]] += losses[i];
                    counts[label[i]]++;
                    total += losses[i];
                    n++;
                }
            }
        }
        finally
        {
            if (wasTraining) model.Root.train();
        }
        if (n == 0) throw new FaceClusterException($"none of the {images.Count} held-out images could be evaluated: {string.Join("; ", unreadable.Take(3))}");
        var byLabel = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int l = 0; l < sums.Length; l++) if (counts[l] > 0) byLabel[model.Labels[l]] = sums[l] / counts[l];
        return new HoldoutResult(n, total / n, byLabel, unreadable);
    }
}
