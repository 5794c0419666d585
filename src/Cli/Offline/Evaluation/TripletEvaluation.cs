using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Models.Triplet;

namespace FaceCluster.Cli.Offline.Evaluation;

/// <summary>Verification accuracy of a run's latest triplet checkpoint on held-out images (`facecluster eval`).</summary>
public static class TripletEvaluation
{
    public sealed record Report(string Checkpoint, long Step, HeldOutImages Images, int Loaded, string[] Failures, VerificationResult Result);

    public static Report Run(string runDir, string dataDir, int folds = VerificationEvaluator.DefaultFolds,
        int pairsPerKind = VerificationEvaluator.DefaultPairsPerKind, ulong seed = 1)
    {
        if (!Directory.Exists(runDir)) throw new FaceClusterException($"--run {runDir}: the run folder does not exist", ExitCodes.UsageError);
        TorchRuntime.EnsureLoaded();
        var store = new CheckpointStore(runDir);
        var checkpoint = store.FindLatestValid(out var skipped)
            ?? throw new FaceClusterException($"--run {runDir}: no usable checkpoint" + (skipped.Count > 0 ? " (" + string.Join("; ", skipped) + ")" : ""));
        var meta = checkpoint.Meta;
        if (meta.ModelKind != ModelKind.Triplet.ToString())
            throw new FaceClusterException($"--run {runDir}: its checkpoint holds a {meta.ModelKind} model; eval measures triplet embeddings", ExitCodes.UsageError);
        var preset = ModelPreset.Parse(meta.Preset);
        var images = HeldOutImages.Find(runDir, dataDir);
        var loaded = ImageFileLoader.Load(images.Paths, preset.ImageSize);
        var identityOf = images.Paths.Zip(images.Identities).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        var names = loaded.Paths.Select(p => identityOf[p]).ToArray();
        var index = names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select((n, i) => (n, i)).ToDictionary(x => x.n, x => (long)x.i);
        var labels = names.Select(n => index[n]).ToArray();

        using var model = (TripletFaceModel)FaceModelFactory.Create(ModelKind.Triplet, preset, meta.Labels, 1);
        using (var trainer = new ReplicaTrainer(model, TorchSharp.torch.CPU, TrainerOptions.For(preset)))
            CheckpointStore.Load(trainer, checkpoint);
        var result = EmbeddingVerification.Evaluate(model, loaded, labels, folds, pairsPerKind, seed);
        return new Report(checkpoint.Directory, meta.Step, images, loaded.Count, loaded.Failures, result);
    }
}
