using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Evaluation;
using FaceCluster.Common.Models.Triplet;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// Measures every checkpoint on the run's validation split (the manifest's validation samples, never trained on),
/// with one replica's state loaded on the coordinator's CPU: the autoencoder's mean per-sample reconstruction loss
/// without augmentation, or the triplet model's 10-fold verification accuracy. Curation lowers the training loss by
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

    /// <summary>Null when the model has no validation figure (the quality model) or the split has too few images.</summary>
    public static RunValidation? For(FaceManifest manifest, ModelKind kind, ModelPreset preset, ILogger log)
    {
        if (kind is not (ModelKind.Autoencoder or ModelKind.Triplet)) return null;
        var labels = manifest.Identities.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        var images = manifest.ValidationSamples.Where(s => labels.ContainsKey(s.Identity))
            .Select(s => new HoldoutImage(Path.Combine(manifest.DataRoot, s.RelativePath), labels[s.Identity])).ToList();
        bool enough = kind == ModelKind.Autoencoder
            ? images.Count > 0
            : images.GroupBy(i => i.Label).Count(g => g.Count() >= 2) >= 2; // same and different pairs
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
            var verification = EmbeddingVerification.Evaluate((TripletFaceModel)model, _loaded, _loadedLabels);
            return new ValidationFigure("validation/accuracy", verification.MeanAccuracy, true, _loaded.Count);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogWarning("Validation of step {Step} not measured: {Message}", step, e.Message);
            return null;
        }
    }
}
