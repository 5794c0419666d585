using System.Net;
using Akka.Hosting;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Errors;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Hosting;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Torch;
using FaceCluster.Coordinator.ControlPlane;
using FaceCluster.Coordinator.Hosting;
using FaceCluster.GpuWorker.Devices;
using FaceCluster.GpuWorker.Hosting;
using FaceCluster.GpuWorker.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// `facecluster train`: the coordinator and local workers in one process, with the same actors as a
/// multi-host run, on loopback (Akka.Remote and the data plane both on 127.0.0.1).
/// </summary>
public static class EmbeddedTrainingRun
{
    public sealed record Result(long Step, string Reason, string RunDir, string? LastCheckpoint, IReadOnlyList<string> Warnings);

    public static async Task<Result> RunAsync(TrainRunOptions options, ICoordinatorObserver display, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        options.Validate();
        var log = loggerFactory.CreateLogger("facecluster.train");
        TorchRuntime.EnsureLoaded();
        using var folder = RunFolder.OpenExclusive(options.RunDir);
        var warnings = new List<string>();

        var scan = ManifestStore.LoadOrBuild(options.DataDir, folder.Root, options.Scan);
        var manifest = scan.Manifest;
        var labels = manifest.Identities.ToArray();
        if (!manifest.TrainingSamples.Any())
            throw new FaceClusterException($"the face set {manifest.DataRoot} has no training images (see `facecluster scan --data {options.DataDir}`)");
        byte[] secret = folder.LoadOrCreateSecret(options.SecretFile);

        using var coordinatorPlane = new DataPlaneEndpoint(IPAddress.Loopback, 0, secret, loggerFactory.CreateLogger("facecluster.dataplane.coordinator"));
        var store = new CheckpointStore(folder.Root, options.KeepCheckpoints, loggerFactory.CreateLogger("facecluster.checkpoints"));
        ResumePoint? resume = options.Resume
            ? PrepareResume(store, manifest, labels, options, coordinatorPlane, warnings)
            : PrepareWarmStart(options, labels, coordinatorPlane);
        if (resume != null && resume.Step >= options.TotalSteps)
            throw new FaceClusterException($"the run in {folder.Root} is already at step {resume.Step} of {options.TotalSteps}: raise --cycles to train further");

        var devices = ResolveDevices(options);
        int threads = options.Threads > 0 ? options.Threads : Math.Max(1, Environment.ProcessorCount / devices.Count);
        var engines = new List<WorkerEngine>();
        var cache = new DecodedImageCache(options.DecodedCacheBytes);
        try
        {
            for (int i = 0; i < devices.Count; i++)
            {
                var endpoint = new DataPlaneEndpoint(IPAddress.Loopback, 0, secret, loggerFactory.CreateLogger($"facecluster.dataplane.w{i}"));
                string id = devices.Count == 1 ? "local" : $"local-{i}";
                engines.Add(new WorkerEngine(new WorkerEngineOptions(id, threads, options.MaxBatch), devices[i], endpoint, secret, loggerFactory.CreateLogger("facecluster.worker." + id)));
            }
            var faceSets = new LocalFaceSetProvider(manifest, new LocalFaceImageSource(manifest.DataRoot), cache, 1, loggerFactory.CreateLogger("facecluster.loader"));

            var run = new RunSpec(
                RunId: $"{Path.GetFileName(folder.Root)}-{manifest.ManifestHash[..8]}",
                ModelKind: options.Model.ToString(), Preset: options.Preset.Name, Labels: labels, ManifestHash: manifest.ManifestHash,
                DataRoot: manifest.DataRoot, HttpBaseUrl: "", LearningRate: options.LearningRate ?? TrainerOptions.For(options.Preset).LearningRate,
                SsimWeight: options.SsimWeight, Seed: options.Seed, StepsPerCycle: options.StepsPerCycle, Augment: options.Augment);
            var hub = new RunObserverHub(display);
            var checkpointer = new RunCheckpointer(store, secret, manifest.ManifestHash, options.Preset.ImageSize, loggerFactory.CreateLogger("facecluster.checkpoints"),
                previews: RunPreviews.For(folder.Root, manifest, options.Model, options.Preset, options.Seed, loggerFactory.CreateLogger("facecluster.previews")));
            var settings = new CoordinatorSettings(run, options.GlobalBatch, options.TotalSteps, MinWorkers: engines.Count,
                TrainingIds: manifest.TrainingSamples.Select(s => s.Id).ToArray(), options.FailureGrace,
                LedgerWiring.PropsFor(folder.Root, manifest, options.Curation, options.PruneAction, loggerFactory), checkpointer, resume, hub) { EqualBatches = options.EqualBatches };

            var node = new ClusterNodeOptions { Hostname = "127.0.0.1", Port = 0, Roles = [ClusterNodeOptions.CoordinatorRole, ClusterNodeOptions.WorkerRole] };
            var workersDone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSingleton(loggerFactory);
            builder.Services.AddAkka(ClusterNodeOptions.SystemName, (akka, _) => akka
                .ConfigureLogging()
                .ConfigureNetwork(node)
                .ConfigureCluster(node)
                .ConfigureSerialization()
                .JoinSelfWhenNoSeeds(node)
                .WithCoordinator(settings)
                .WithWorkers(engines, faceSets, workersDone, createProxy: false));
            using var host = builder.Build();
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            await using var http = await EmbeddedHttp.StartAsync(options.Http, folder, scan, secret, host.Services, loggerFactory, hub, cancellationToken).ConfigureAwait(false);
            try
            {
                var finished = await Task.WhenAny(hub.Completion, workersDone.Task, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                if (finished == workersDone.Task && !hub.Completion.IsCompleted)
                {
                    // The coordinator tells the workers before it tells the observers: give it a moment to finish.
                    await Task.WhenAny(hub.Completion, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken)).ConfigureAwait(false);
                    if (!hub.Completion.IsCompleted)
                        throw new FaceClusterException("the workers stopped: " + await workersDone.Task.ConfigureAwait(false));
                }
                cancellationToken.ThrowIfCancellationRequested();
                var (step, reason) = await hub.Completion.ConfigureAwait(false);
                return new Result(step, reason, folder.Root, hub.LastCheckpoint, warnings);
            }
            finally
            {
                using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await host.StopAsync(stopTimeout.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var e in engines) { e.Dispose(); e.Endpoint.Dispose(); }
        }
    }

    private static IReadOnlyList<WorkerDevice> ResolveDevices(TrainRunOptions options)
    {
        var devices = DeviceInventory.Select(options.Device);
        if (devices.Count == 1 && devices[0].Kind == "cpu")
            return Enumerable.Repeat(devices[0], options.Workers).ToList();
        if (options.Workers > 1 && options.Workers != devices.Count)
            throw new FaceClusterException($"--workers {options.Workers} does not match --device {options.Device}, which means {devices.Count} device(s) here; leave --workers out to use one worker per device", ExitCodes.UsageError);
        return devices;
    }

    /// <summary>The coordinator serves the latest valid checkpoint's state; every worker adopts it before the first step.</summary>
    private static ResumePoint PrepareResume(CheckpointStore store, FaceManifest manifest, string[] labels, TrainRunOptions options, DataPlaneEndpoint plane, List<string> warnings)
    {
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
    private static ResumePoint? PrepareWarmStart(TrainRunOptions options, string[] labels, DataPlaneEndpoint plane)
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
    private static string InferDecoderComponent(string checkpointDir, string identity)
    {
        var info = CheckpointStore.Open(checkpointDir);
        string own = Common.Models.Autoencoder.FaceSwapAutoencoder.DecoderName(identity);
        if (info.Meta.Files.ContainsKey(CheckpointStore.ComponentFile(own))) return own;
        var decoders = info.Meta.Files.Keys.Where(k => k.StartsWith("decoder-", StringComparison.Ordinal)).ToList();
        if (decoders.Count == 1) return Path.GetFileNameWithoutExtension(decoders[0]);
        throw new FaceClusterException($"--init-decoder {identity}={checkpointDir}: that checkpoint has no decoder for '{identity}' and several others ({string.Join(", ", decoders)}); name the file, e.g. {Path.Combine(checkpointDir, decoders.FirstOrDefault() ?? "decoder-x.pt")}", ExitCodes.UsageError);
    }
}
