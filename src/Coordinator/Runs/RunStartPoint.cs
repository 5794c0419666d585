using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// Where a run's replicas start: a resumed checkpoint or warm-started components, served from the coordinator's
/// data plane (shared by `facecluster coordinator`; the same logic as the embedded `train`).
/// </summary>
public static class RunStartPoint
{
    /// <summary>The coordinator serves the latest valid checkpoint's state; every worker adopts it before the first step.</summary>
    /// <remarks>A run folder that has never had a checkpoint starts a new run (with a warning), so a service can always pass --resume.</remarks>
    public static ResumePoint? PrepareResume(CheckpointStore store, FaceManifest manifest, string[] labels, TrainRunOptions options, DataPlaneEndpoint plane, List<string> warnings)
    {
        if (!Directory.Exists(store.Root) || Directory.GetDirectories(store.Root, "step-*").Length == 0)
        {
            warnings.Add($"--resume: {store.Root} has no checkpoint yet: starting a new run");
            return PrepareWarmStart(options with { Resume = false }, labels, plane);
        }
        var latest = store.FindLatestValid(out var skipped);
        warnings.AddRange(skipped);
        if (latest == null)
            throw new FaceClusterException($"--resume: no usable checkpoint in {store.Root}" + (skipped.Count > 0 ? " (" + string.Join("; ", skipped) + ")" : ""));
        var meta = latest.Meta;
        if (meta.Preset != options.Preset.Name)
            throw new FaceClusterException($"--resume: checkpoint {Path.GetFileName(latest.Directory)} was saved with preset '{meta.Preset}'; this run asks for '{options.Preset.Name}'");
        if (!meta.Labels.SequenceEqual(labels))
            throw new FaceClusterException($"--resume: checkpoint {Path.GetFileName(latest.Directory)} was trained on identities [{string.Join(", ", meta.Labels)}]; the face set now has [{string.Join(", ", labels)}]");
        if (meta.ManifestHash != manifest.ManifestHash)
            warnings.Add("the face set changed since the checkpoint (manifest hash differs); sample ids of unchanged files are kept");
        var bundle = CheckpointStore.ReadBundle(latest);
        var state = bundle.Serialize();
        plane.SetStateProvider(() => new StateSnapshot(bundle.Step, state));
        var run = RunCheckpointer.ReadRunState(latest);
        string checksum = meta.Extra.TryGetValue("parameterChecksum", out var c) ? c : "";
        return new ResumePoint(meta.Step, meta.Cycle, run?.Excluded ?? [], run?.RefeedIds ?? [], run?.RefeedWeights ?? [], plane.AdvertisedEndpoint, checksum);
    }

    /// <summary>--init-encoder / --init-decoder: start every replica from the given components (same weights everywhere).</summary>
    public static ResumePoint? PrepareWarmStart(TrainRunOptions options, string[] labels, DataPlaneEndpoint plane)
    {
        if (options.InitEncoder == null && options.InitDecoders.Count == 0) return null;
        if (options.Model != ModelKind.Autoencoder)
            throw new FaceClusterException("--init-encoder and --init-decoder apply to the autoencoder model", ExitCodes.UsageError);
        using var model = (Common.Models.Autoencoder.FaceSwapAutoencoder)FaceModelFactory.Create(options.Model, options.Preset, labels, options.Seed, options.SsimWeight);
        using var trainer = new ReplicaTrainer(model, TorchSharp.torch.CPU, new TrainerOptions(options.LearningRate ?? TrainerOptions.For(options.Preset).LearningRate));
        if (options.InitEncoder != null)
            CheckpointStore.LoadComponent(model.Encoder, "encoder", options.Preset, options.InitEncoder, "encoder");
        foreach (var (identity, path) in options.InitDecoders)
        {
            int index = Array.IndexOf(labels, identity);
            if (index < 0) throw new FaceClusterException($"--init-decoder {identity}={path}: '{identity}' is not an identity of this face set ({string.Join(", ", labels)})", ExitCodes.UsageError);
            string source = Directory.Exists(path) ? InferDecoderComponent(path, identity) : Common.Models.Autoencoder.FaceSwapAutoencoder.DecoderName(identity);
            CheckpointStore.LoadComponent(model.Decoder(index), Common.Models.Autoencoder.FaceSwapAutoencoder.DecoderName(identity), options.Preset, path, source);
        }
        var state = trainer.ExportState();
        plane.SetStateProvider(() => new StateSnapshot(0, state));
        return new ResumePoint(0, 0, [], [], [], plane.AdvertisedEndpoint, trainer.ParameterChecksum());
    }

    /// <summary>A checkpoint folder's decoder for <paramref name="identity"/>, or its only decoder.</summary>
    public static string InferDecoderComponent(string checkpointDir, string identity)
    {
        var info = CheckpointStore.Open(checkpointDir);
        string own = Common.Models.Autoencoder.FaceSwapAutoencoder.DecoderName(identity);
        if (info.Meta.Files.ContainsKey(CheckpointStore.ComponentFile(own))) return own;
        var decoders = info.Meta.Files.Keys.Where(k => k.StartsWith("decoder-", StringComparison.Ordinal)).ToList();
        if (decoders.Count == 1) return Path.GetFileNameWithoutExtension(decoders[0]);
        throw new FaceClusterException($"--init-decoder {identity}={checkpointDir}: that checkpoint has no decoder for '{identity}' and several others ({string.Join(", ", decoders)}); name the file, e.g. {Path.Combine(checkpointDir, decoders.FirstOrDefault() ?? "decoder-x.pt")}", ExitCodes.UsageError);
    }
}
