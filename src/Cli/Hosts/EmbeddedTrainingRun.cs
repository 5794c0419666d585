using System.Net;
using Akka.Actor;
using Akka.Hosting;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Hosting;
using FaceCluster.Coordinator.ControlPlane;
using FaceCluster.Coordinator.Hosting;
using FaceCluster.GpuWorker.Actors;
using FaceCluster.GpuWorker.Devices;
using FaceCluster.GpuWorker.Hosting;
using FaceCluster.GpuWorker.Training;
using Microsoft.Extensions.DependencyInjection;

namespace FaceCluster.Cli.Hosts;

/// <summary>
/// `facecluster train`: the coordinator and local workers in one process, with the same actors as a
/// multi-host run, on loopback (Akka.Remote and the data plane both on 127.0.0.1).
/// </summary>
public static class EmbeddedTrainingRun
{
    public sealed record Result(long Step, string Reason, string RunDir, string? LastCheckpoint, bool Stopped = false);

    public static async Task<Result> RunAsync(TrainRunOptions options, ICoordinatorObserver display, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        options.Validate();
        var log = loggerFactory.CreateLogger("facecluster.train");
        var devices = DeviceInventory.ForWorkers(options.Device, options.Workers);
        // No worker can join a run in one process later: a global batch the local workers' caps cannot hold would wait for ever.
        if (options.MaxBatch > 0 && (long)devices.Count * options.MaxBatch < options.GlobalBatch)
            throw new FaceClusterException($"--batch {options.GlobalBatch} does not fit: {devices.Count} worker(s) of --max-batch {options.MaxBatch} hold {(long)devices.Count * options.MaxBatch} samples a step; raise --max-batch or --workers, or lower --batch", ExitCodes.UsageError);
        using var prepared = PreparedRun.Open(options, IPAddress.Loopback, null, loggerFactory);
        var (folder, scan, manifest, secret, warnings) = (prepared.Folder, prepared.Scan, prepared.Manifest, prepared.Secret, prepared.Warnings);
        // What the start found (no checkpoint yet, a damaged one skipped, a changed face set) is said now, not when the run ends.
        foreach (var w in warnings) display.Message("warning: " + w);

        int threads = options.Threads > 0 ? options.Threads : Math.Max(1, Environment.ProcessorCount / devices.Count);
        var engines = new List<WorkerEngine>();
        var cache = new DecodedImageCache(options.DecodedCacheBytes);
        try
        {
            for (int i = 0; i < devices.Count; i++)
            {
                var endpoint = new DataPlaneEndpoint(IPAddress.Loopback, 0, secret, loggerFactory.CreateLogger($"facecluster.dataplane.w{i}"));
                string id = devices.Count == 1 ? "local" : $"local-{i}";
                engines.Add(new WorkerEngine(new WorkerEngineOptions(id, threads, options.MaxBatch, UpdateOn: options.UpdateOn, Overlap: FaceCluster.Common.Models.Training.StepOverlap.Resolve(options.Overlap, devices[i].Device, threads, devices.Count)), devices[i], endpoint, secret, loggerFactory.CreateLogger("facecluster.worker." + id)));
            }
            var faceSets = new LocalFaceSetProvider(manifest, new LocalFaceImageSource(manifest.DataRoot), cache, 1, loggerFactory.CreateLogger("facecluster.loader"));

            using var tensorBoard = new TensorBoardObserver(folder.Root, loggerFactory.CreateLogger("facecluster.tensorboard"));
            var hub = new RunObserverHub(display, tensorBoard);
            var settings = prepared.Settings(minWorkers: engines.Count, httpBaseUrl: "", hub, loggerFactory);

            // One process, but its Akka.Remote port is still a port on this machine: mutual TLS with the run's key, as in a cluster.
            using var tls = ClusterTls.FromSecret(secret);
            var node = new ClusterNodeOptions { Hostname = "127.0.0.1", Port = 0, Roles = [ClusterNodeOptions.CoordinatorRole, ClusterNodeOptions.WorkerRole], Tls = tls };
            var workers = new WorkerLifecycle();
            using var host = ClusterNodeHost.Build(node, loggerFactory, akka => akka
                .WithCoordinator(settings)
                .WithWorkers(engines, faceSets, workers, createProxy: false));
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            await using var http = await EmbeddedHttp.StartAsync(options.Http, folder, scan, secret, host.Services, loggerFactory, hub, cancellationToken).ConfigureAwait(false);
            try
            {
                var finished = await Task.WhenAny(hub.Completion, workers.Outcome, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                if (finished == workers.Outcome && !hub.Completion.IsCompleted)
                {
                    // The coordinator tells the workers before it tells the observers: give it a moment to finish.
                    await Task.WhenAny(hub.Completion, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken)).ConfigureAwait(false);
                    if (!hub.Completion.IsCompleted)
                        throw new FaceClusterException("the workers stopped: " + (await workers.Outcome.ConfigureAwait(false)).Reason);
                }
                if (cancellationToken.IsCancellationRequested && !hub.Completion.IsCompleted)
                {
                    // A graceful stop: the replicas finish their step and the coordinator checkpoints it.
                    host.Services.GetRequiredService<ActorRegistry>().Get<CoordinatorProxyKey>().Tell(new StopRun("stopped by a signal"));
                    await Task.WhenAny(hub.Completion, Task.Delay(TimeSpan.FromSeconds(120), CancellationToken.None)).ConfigureAwait(false);
                    long at = hub.Completion.IsCompletedSuccessfully ? hub.Completion.Result.Step : hub.LastStep;
                    return new Result(at, "stopped by a signal", folder.Root, prepared.NewestCheckpoint(hub.LastCheckpoint), Stopped: true);
                }
                var (step, reason) = await hub.Completion.ConfigureAwait(false);
                return new Result(step, reason, folder.Root, prepared.NewestCheckpoint(hub.LastCheckpoint));
            }
            finally
            {
                using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await host.StopAsync(stopTimeout.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var e in engines) { e.Dispose(); e.Endpoint.Dispose(); }
        }
    }
}
