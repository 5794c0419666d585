using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using FaceCluster.Common.Hosting;
using FaceCluster.Coordinator.ControlPlane;
using FaceCluster.Coordinator.Hosting;
using FaceCluster.Coordinator.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FaceCluster.Cli.Hosts;

/// <summary>
/// `facecluster coordinator`: a cluster node with role "coordinator" only. It hosts the coordinator singleton, the
/// ledger, checkpoints and the HTTP API; workers on other machines join it with `facecluster worker --join`.
/// </summary>
public static class ClusterCoordinatorRun
{
    /// <summary>How the run ended. <paramref name="Stopped"/>: by Ctrl-C/SIGTERM before the planned steps were done.</summary>
    public sealed record Result(long Step, string Reason, bool Stopped, string RunDir, string? LastCheckpoint);

    /// <param name="announce">Told, once the node and the HTTP server listen, what workers and people need (cluster address, URL, token).</param>
    public static async Task<Result> RunAsync(ClusterCoordinatorOptions options, ICoordinatorObserver display, Action<string> announce,
        ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        options.Validate();
        var train = options.Run;
        var (bindHost, bindPort) = ClusterNodeOptions.ParseHostPort(options.Bind, "--bind", allowZeroPort: true);
        var (httpHost, httpPort) = ClusterNodeOptions.ParseHostPort(options.HttpAddress, "--http", allowZeroPort: true);
        string? publicHost = options.PublicHost;
        var bindAddress = ClusterNodeOptions.ResolveLocal(bindHost, "--bind");
        var certificate = options.TlsCert == null ? null : TlsFiles.LoadServerCertificate(options.TlsCert);
        // While the face set is scanned (hours for a large first scan), the HTTP address already answers /healthz and
        // /api/status (phase "scanning", files examined of how many); the API takes the address when the scan ends.
        ScanStatusServer? scanStatus = null;
        string? token = null;
        PreparedRun prepared;
        try
        {
            prepared = PreparedRun.Open(train, bindAddress, publicHost, loggerFactory, (runFolder, runSecret, progress) =>
            {
                token = ApiToken.Create(runFolder.TokenPath);
                scanStatus = ScanStatusServer.StartAsync(httpHost, httpPort, certificate, publicHost, token, runSecret, Path.GetFullPath(train.DataDir), progress,
                    loggerFactory, cancellationToken).GetAwaiter().GetResult();
                announce($"Scanning {Path.GetFullPath(train.DataDir)}: progress on {scanStatus.Url}/api/status (token in {runFolder.TokenPath})");
            });
        }
        finally
        {
            if (scanStatus != null) await scanStatus.DisposeAsync().ConfigureAwait(false);
        }
        using var preparedRun = prepared;
        var (folder, scan, manifest, secret, warnings) = (prepared.Folder, prepared.Scan, prepared.Manifest, prepared.Secret, prepared.Warnings);
        // What the start found (no checkpoint yet, a damaged one skipped, a changed face set) is said now, not when the run ends.
        foreach (var w in warnings) announce("warning: " + w);

        var coordinatorRef = new TaskCompletionSource<IActorRef>(TaskCreationOptions.RunContinuationsAsynchronously);
        var httpOptions = new CoordinatorHttpOptions(httpHost, httpPort, manifest, await File.ReadAllBytesAsync(scan.ManifestPath, cancellationToken).ConfigureAwait(false),
            token!, secret, publicHost)
        {
            TlsCertificate = certificate,
            PreviewsDir = Path.Combine(folder.Root, RunPreviews.FolderName),
        };
        await using var http = await CoordinatorHttpServer.StartAsync(httpOptions, coordinatorRef.Task, loggerFactory, cancellationToken).ConfigureAwait(false);

        using var tensorBoard = new TensorBoardObserver(folder.Root, loggerFactory.CreateLogger("facecluster.tensorboard"));
        var hub = new RunObserverHub(display, tensorBoard);
        var settings = prepared.Settings(options.MinWorkers, http.Url, hub, loggerFactory);

        using var tls = options.Insecure ? null : ClusterTls.FromSecret(secret);
        var node = new ClusterNodeOptions
        {
            Hostname = bindHost, Port = bindPort, PublicHostname = publicHost, Roles = [ClusterNodeOptions.CoordinatorRole], Tls = tls, Insecure = options.Insecure,
        };
        using var host = ClusterNodeHost.Build(node, loggerFactory, akka => akka.WithCoordinator(settings));
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not FaceClusterException and not OperationCanceledException)
        {
            throw new FaceClusterException($"--bind {options.Bind}: the cluster node could not start: {e.GetBaseException().Message}", ExitCodes.UserError, e);
        }
        var system = host.Services.GetRequiredService<ActorSystem>();
        coordinatorRef.TrySetResult(host.Services.GetRequiredService<ActorRegistry>().Get<CoordinatorProxyKey>());
        var self = Cluster.Get(system).SelfAddress;
        announce($"Cluster node: {self.Host}:{self.Port}, {(options.Insecure ? "plain TCP (--insecure)" : "mutual TLS")} (workers: facecluster worker --join {self.Host}:{self.Port} " +
                 $"--secret-file <copy of {train.SecretFile ?? folder.SecretPath}>{(options.Insecure ? " --insecure" : "")})");
        announce($"HTTP API: {http.Url}");
        announce($"HTTP token: in {folder.TokenPath} (open the dashboard once as {http.Url}/?token=<its content>)");
        try
        {
            var finished = await Task.WhenAny(hub.Completion, system.WhenTerminated, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested && !hub.Completion.IsCompleted && !system.WhenTerminated.IsCompleted)
            {
                // A graceful stop: the replicas finish their step and the coordinator checkpoints it before this node leaves.
                coordinatorRef.Task.Result.Tell(new StopRun("stopped by a signal"));
                await Task.WhenAny(hub.Completion, system.WhenTerminated, Task.Delay(TimeSpan.FromSeconds(120), CancellationToken.None)).ConfigureAwait(false);
                if (hub.Completion.IsCompleted) await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
                return new Result(hub.Completion.IsCompletedSuccessfully ? hub.Completion.Result.Step : hub.LastStep, "stopped", true, folder.Root, prepared.NewestCheckpoint(hub.LastCheckpoint));
            }
            if (finished == system.WhenTerminated && !hub.Completion.IsCompleted && !cancellationToken.IsCancellationRequested)
                throw new FaceClusterException("the coordinator's cluster node stopped before the run finished (it was downed or could not keep its address)");
            // Workers hear TrainingFinished and leave; give them a moment before this node leaves the cluster.
            if (hub.Completion.IsCompleted) await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
            if (train.StayUp && hub.Completion.IsCompletedSuccessfully && !cancellationToken.IsCancellationRequested)
            {
                announce($"Run done at step {hub.Completion.Result.Step}; serving the dashboard, the ledger and /api/status at {http.Url} until stopped (--stay-up)");
                try { await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        }
        // A stop request that came while the last step finished still ends a finished run.
        if (hub.Completion.IsCompletedSuccessfully)
        {
            var (step, reason) = hub.Completion.Result;
            return new Result(step, reason, false, folder.Root, prepared.NewestCheckpoint(hub.LastCheckpoint));
        }
        return new Result(hub.LastStep, "stopped", true, folder.Root, prepared.NewestCheckpoint(hub.LastCheckpoint));
    }

}
