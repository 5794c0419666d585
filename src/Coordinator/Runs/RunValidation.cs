using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Evaluation;
using FaceCluster.Common.Models.Quality;
using FaceCluster.Common.Models.Triplet;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// Measures every checkpoint on the run's validation split (the manifest's validation samples, never trained on),
/// with one replica's state loaded on the coordinator's CPU: the autoencoder's mean per-sample reconstruction loss
/// without augmentation, the triplet model's 10-fold verification accuracy, or the quality model's good/bad accuracy
/// (P(bad) ≥ 0.5 against the folder, bad/ or good/, each validation image sits in). Curation lowers the training loss by
/// removing faces, so the "best" checkpoint is ranked by this figure, not by the training loss. A measurement that
/// fails is logged and skipped; it never fails the checkpoint.
/// </summary>
public sealed class RunValidation
{
    private readonly ModelKind _kind;
    private readonly ModelPreset _preset;
    private readonly IReadOnlyList<HoldoutImage> _images;
    private readonly ILogger _log;
    private LoadedImages? _loaded;
    private long[] _loadedLabels = [];

    private RunValidation(ModelKind kind, ModelPreset preset, IReadOnlyList<HoldoutImage> images, ILogger log)
    {
        (_kind, _preset, _images, _log) = (kind, preset, images, log);
    }

    /// <summary>The figure's name for the quality model (higher is better).</summary>
    public const string GoodBadAccuracy = "validation/good-bad-accuracy";

    /// <summary>Null when the split has too few images for the model's figure.</summary>
    public static RunValidation? For(FaceManifest manifest, ModelKind kind, ModelPreset preset, ILogger log)
    {
        var labels = manifest.Identities.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        var images = manifest.ValidationSamples.Where(s => labels.ContainsKey(s.Identity))
            .Select(s => new HoldoutImage(Path.Combine(manifest.DataRoot, s.RelativePath), labels[s.Identity])).ToList();
        bool enough = kind == ModelKind.Triplet
            ? images.GroupBy(i => i.Label).Count(g => g.Count() >= 2) >= 2 // same and different pairs
            : images.Count > 0;
        return enough ? new RunValidation(kind, preset, images, log) : null;
    }

    /// <summary>The figure of the checkpoint of <paramref name="step"/> (its model loaded); null (logged) when it cannot be measured.</summary>
    public ValidationFigure? Evaluate(IFaceModel model, long step)
    {
        try
        {
            if (_kind == ModelKind.Autoencoder)
            {
                var result = HoldoutEvaluator.Evaluate(model, _images);
                return new ValidationFigure("validation/loss", result.MeanLoss, false, result.Images);
            }
            if (_loaded == null)
            {
                _loaded = ImageFileLoader.Load(_images.Select(i => i.Path).ToList(), _preset.ImageSize);
                var labelOf = _images.ToDictionary(i => i.Path, i => (long)i.Label, StringComparer.Ordinal);
                _loadedLabels = _loaded.Paths.Select(p => labelOf[p]).ToArray();
            }
            if (model is QualityFaceModel quality)
                return new ValidationFigure(GoodBadAccuracy, Accuracy(quality, _loaded, _loadedLabels), true, _loaded.Count);
            var verification = EmbeddingVerification.Evaluate((TripletFaceModel)model, _loaded, _loadedLabels);
            return new ValidationFigure("validation/accuracy", verification.MeanAccuracy, true, _loaded.Count);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogWarning("Validation of step {Step} not measured: {Message}", step, e.Message);
            return null;
        }
    }

    /// <summary>The share of images whose P(bad) ≥ 0.5 agrees with their folder.</summary>
    internal static double Accuracy(QualityFaceModel model, LoadedImages images, long[] labels, int chunk = 128)
    {
        if (images.Count == 0) throw new FaceClusterException("no validation image could be loaded");
        int correct = 0;
        for (int start = 0; start < images.Count; start += chunk)
        {
            int n = Math.Min(chunk, images.Count - start);
            using var scope = TorchSharp.torch.NewDisposeScope();
            var batch = TorchSharp.torch.tensor(images.Slice(start, n).ToArray(), [n, 3, images.ImageSize, images.ImageSize]);
            float[] bad = model.PredictBad(batch);
            for (int i = 0; i < n; i++)
                if (bad[i] >= 0.5f == (labels[start + i] == model.BadIndex)) correct++;
        }
        return correct / (double)images.Count;
    }
}
