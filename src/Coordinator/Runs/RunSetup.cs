using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>What every coordinator-side run prepares the same way: the embedded `train` and the multi-host `coordinator`.</summary>
public static class RunSetup
{
    /// <summary>The face set's manifest in the run folder (reused or rebuilt); a face set with nothing to train on is an error.</summary>
    public static ManifestLoadResult ScanFaceSet(TrainRunOptions options, RunFolder folder, ILogger? logger = null, ScanProgress? counter = null)
    {
        var scan = ManifestStore.LoadOrBuild(options.DataDir, folder.Root, options.Scan, logger, counter: counter);
        if (!scan.Manifest.TrainingSamples.Any())
            throw new FaceClusterException($"the face set {scan.Manifest.DataRoot} has no training images (see `facecluster scan --data {options.DataDir}`)");
        return scan;
    }

    /// <summary>Where the run starts: a checkpoint (--resume), warm-started components, or nothing (a fresh run); served by <paramref name="plane"/>.</summary>
    public static ResumePoint? StartPoint(TrainRunOptions options, RunFolder folder, CheckpointStore store, FaceManifest manifest, string[] labels,
        DataPlaneEndpoint plane, List<string> warnings)
    {
        var resume = options.Resume
            ? RunStartPoint.PrepareResume(store, manifest, labels, options, plane, warnings)
            : RunStartPoint.PrepareWarmStart(options, labels, plane);
        if (resume != null && resume.Step >= options.TotalSteps && !options.StayUp)
            throw new FaceClusterException($"the run in {folder.Root} is already at step {resume.Step} of {options.TotalSteps}: raise --cycles to train further");
        return resume;
    }

    /// <summary>
    /// The curation policy of a run. With --prune-action move the files of pruned faces leave the data folder, and a
    /// rescan (--resume) leaves out an identity with fewer files than --min-images, which would change the model's
    /// labels and refuse every resume: so the policy never lets an identity's training samples fall below --min-images.
    /// </summary>
    public static CurationPolicyOptions CurationFor(TrainRunOptions options) =>
        options.PruneAction == QuarantineAction.Move && options.Curation.MinImagesPerIdentity < options.Scan.MinImages
            ? options.Curation with { MinImagesPerIdentity = options.Scan.MinImages }
            : options.Curation;

    /// <summary>The coordinator's settings: the run spec, the ledger, checkpoints with previews, and the start point.</summary>
    public static CoordinatorSettings Settings(TrainRunOptions options, RunFolder folder, FaceManifest manifest, byte[] secret, CheckpointStore store,
        ResumePoint? resume, int minWorkers, string httpBaseUrl, ICoordinatorObserver observer, ILoggerFactory loggerFactory)
    {
        var run = new RunSpec(
            RunId: $"{Path.GetFileName(folder.Root)}-{manifest.ManifestHash[..8]}",
            ModelKind: options.Model.ToString(), Preset: options.Preset.Name, Labels: manifest.Identities.ToArray(), ManifestHash: manifest.ManifestHash,
            DataRoot: manifest.DataRoot, HttpBaseUrl: httpBaseUrl, LearningRate: options.LearningRate ?? TrainerOptions.For(options.Preset).LearningRate,
            SsimWeight: options.SsimWeight, Seed: options.Seed, StepsPerCycle: options.StepsPerCycle, Augment: options.Augment, Accumulate: options.Accumulate,
            Wire: options.Wire);
        var checkpointer = new RunCheckpointer(store, secret, manifest.ManifestHash, options.Preset.ImageSize, loggerFactory.CreateLogger("facecluster.checkpoints"),
            previews: RunPreviews.For(folder.Root, manifest, options.Model, options.Preset, loggerFactory.CreateLogger("facecluster.previews")),
            validation: RunValidation.For(manifest, options.Model, options.Preset, loggerFactory.CreateLogger("facecluster.validation")));
        var ledger = LedgerWiring.PropsFor(folder.Root, manifest, CurationFor(options), options.PruneAction, loggerFactory);
        return new CoordinatorSettings(run, options.GlobalBatch, options.TotalSteps, minWorkers, options.FailureGrace, ledger, checkpointer, resume, observer)
        {
            EqualBatches = options.EqualBatches,
            ProbeEveryCycles = options.Curation.ProbeEveryCycles,
            ProbeFromStep = options.Curation.ProbeFromStep,
        };
    }
}
