using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Hosting;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.GpuWorker.Actors;
using FaceCluster.GpuWorker.Devices;
using FaceCluster.GpuWorker.Hosting;
using FaceCluster.GpuWorker.Training;
using Microsoft.Extensions.DependencyInjection;

namespace FaceCluster.Cli.Hosts;

/// <summary>
/// `facecluster worker`: a cluster node with role "worker" and one worker actor per device, joined to a coordinator.
/// A graceful stop (Ctrl-C, SIGTERM) tells the coordinator it is leaving, finishes the current step and leaves.
/// </summary>
public static class ClusterWorkerRun
{
    /// <summary>How the worker ended. <paramref name="Left"/>: it stopped on request before the run finished.</summary>
    /// <paramref name="Checksum"/>: the parameter checksum of the first local replica when the worker stopped (replicas of one run agree).
    public sealed record Result(string Reason, bool Left, long ReplicaStep, string Checksum, long LocalReads, long CacheHits, long Downloads);

    public static async Task<Result> RunAsync(ClusterWorkerOptions options, Action<string> announce, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        options.Validate();
        var log = loggerFactory.CreateLogger("facecluster.worker");
        TorchRuntime.EnsureLoaded();
        byte[] secret = ClusterSecret.Read(options.SecretFile);
        var (joinHost, joinPort) = ClusterNodeOptions.ParseHostPort(options.Join, "--join");
        string bindHost = options.Bind ?? LocalAddressTowards(joinHost, joinPort);
        var bindAddress = ClusterNodeOptions.ResolveLocal(bindHost, "--bind");
        string publicHost = options.PublicHost ?? (bindAddress.Equals(IPAddress.Any) || bindAddress.Equals(IPAddress.IPv6Any) ? LocalAddressTowards(joinHost, joinPort) : bindHost);

        var devices = DeviceInventory.ForWorkers(options.Device, options.Workers);
        int threads = options.Threads > 0 ? options.Threads : Math.Max(1, Environment.ProcessorCount / devices.Count);
        string baseId = options.Id ?? $"{Environment.MachineName}-{Environment.ProcessId}";
        var engines = new List<WorkerEngine>();
        using var faceSets = new RemoteFaceSetProvider(options.DataDir, options.CacheDir ?? RemoteFaceSetProvider.DefaultCacheRoot(), secret,
            new DecodedImageCache(512L << 20), 1, loggerFactory.CreateLogger("facecluster.loader"),
            options.TlsCa == null ? null : TlsFiles.LoadTrustedRoots(options.TlsCa));
        try
        {
            for (int i = 0; i < devices.Count; i++)
            {
                string id = devices.Count == 1 ? baseId : $"{baseId}-{i}";
                var endpoint = new DataPlaneEndpoint(bindAddress, 0, secret, loggerFactory.CreateLogger("facecluster.dataplane." + id), advertisedHost: publicHost);
                engines.Add(new WorkerEngine(new WorkerEngineOptions(id, threads, options.MaxBatch, UpdateOn: options.UpdateOn, Overlap: FaceCluster.Common.Models.Training.StepOverlap.Resolve(options.Overlap, devices[i].Device, threads, devices.Count)), devices[i], endpoint, secret, loggerFactory.CreateLogger("facecluster.worker." + id)));
            }

            using var tls = options.Insecure ? null : ClusterTls.FromSecret(secret);
            var node = new ClusterNodeOptions
            {
                Hostname = bindHost, Port = 0, PublicHostname = publicHost, SeedNodes = [options.Join], Roles = [ClusterNodeOptions.WorkerRole],
                Tls = tls, Insecure = options.Insecure,
            };
            announce($"Worker {string.Join(", ", engines.Select(e => $"{e.WorkerId} ({e.Device.Kind} {e.Device.Name})"))} joining {options.Join} from {publicHost}");
            // One cluster session per coordinator: when the coordinator stops or is lost, the replicas are kept and
            // a new session joins whichever coordinator comes back at --join (a restarted one resumes the run).
            DateTime? waitingSince = null;
            Session session;
            while (true)
            {
                try
                {
                    session = await RunSessionAsync(node, engines, faceSets, loggerFactory, log, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    session = new Session(null, true, false, $"stopped on request while joining, replica at step {engines.Max(e => e.ReplicaStep)}");
                }
                if (session.Accepted) waitingSince = null;
                else if (tls?.LastForeignPeer is { } foreign)
                    throw new FaceClusterException($"the cluster secret does not match the coordinator's: the TLS handshake with {foreign}; " +
                                                   "copy the coordinator's RUNDIR/cluster.secret (or its --secret-file) to this machine again");
                if (session.Outcome is { Kind: not WorkerOutcomeKind.CoordinatorStopped } || session.Left) break;
                foreach (var e in engines) e.AbortRunning();
                await WaitIdleAsync(engines, log).ConfigureAwait(false);
                long replicaStep = engines.Max(e => e.ReplicaStep);
                if (options.CoordinatorWait <= TimeSpan.Zero)
                    throw new FaceClusterException($"{session.Why}; this worker exits (--coordinator-wait 0)");
                if (waitingSince == null)
                {
                    waitingSince = DateTime.UtcNow;
                    announce($"{session.Why}; {(replicaStep >= 0 ? $"keeping the replica at step {replicaStep} and rejoining" : "trying again to join")} {options.Join} (waiting up to {options.CoordinatorWait.TotalSeconds:F0} s, --coordinator-wait)");
                }
                else if (DateTime.UtcNow - waitingSince.Value >= options.CoordinatorWait)
                    throw new FaceClusterException($"no coordinator came back at {options.Join} within {options.CoordinatorWait.TotalSeconds:F0} s ({session.Why}); " +
                                                   $"{(replicaStep >= 0 ? $"the replica was at step {replicaStep}" : "no replica was built")} (raise --coordinator-wait to wait longer)");
                try { await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException)
                {
                    session = new Session(null, true, false, $"stopped on request while waiting for a coordinator, replica at step {replicaStep}");
                    break;
                }
            }
            string checksum = await engines[0].Checksum().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            switch (session.Outcome?.Kind)
            {
                case WorkerOutcomeKind.Refused: throw new FaceClusterException("the coordinator refused this worker: " + session.Outcome.Reason, ExitCodes.VersionMismatch);
                case WorkerOutcomeKind.PreparationFailed: throw new FaceClusterException(session.Outcome.Reason);
                case WorkerOutcomeKind.Failed: throw new FaceClusterException("this worker cannot go on: " + session.Outcome.Reason);
            }
            string reason = session.Outcome?.Reason ?? session.Why;
            if (options.StayUp && session.Outcome?.Kind == WorkerOutcomeKind.Finished && !cancellationToken.IsCancellationRequested)
            {
                announce($"The run is done ({reason}); this worker stays up, idle, until stopped (--stay-up)");
                try { await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
            var source = faceSets.Source;
            return new Result(reason, session.Left, engines.Max(e => e.ReplicaStep), checksum, source?.LocalReads ?? 0, source?.CacheHits ?? 0, source?.Downloads ?? 0);
        }
        finally
        {
            foreach (var e in engines) { e.Dispose(); e.Endpoint.Dispose(); }
        }
    }

    /// <summary>How one cluster session ended: an outcome from the coordinator, a leave on request, or the coordinator gone (<paramref name="Why"/>).</summary>
    private sealed record Session(WorkerOutcome? Outcome, bool Left, bool Accepted, string Why);

    /// <summary>
    /// One actor system joined to the coordinator at --join, with a worker actor per engine, until the run ends for
    /// the workers, this process is asked to stop (the workers leave at a step boundary), or the coordinator is gone.
    /// </summary>
    private static async Task<Session> RunSessionAsync(ClusterNodeOptions node, IReadOnlyList<WorkerEngine> engines, IFaceSetProvider faceSets,
        ILoggerFactory loggerFactory, ILogger log, CancellationToken cancellationToken)
    {
        var lifecycle = new WorkerLifecycle();
        var coordinatorGone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = ClusterNodeHost.Build(node, loggerFactory, akka => akka
            .WithWorkers(engines, faceSets, lifecycle, createProxy: true)
            .WithActors((system, _) => system.ActorOf(CoordinatorWatcher.Props(coordinatorGone), "coordinator-watcher")));
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var system = host.Services.GetRequiredService<ActorSystem>();
        var coordinator = host.Services.GetRequiredService<ActorRegistry>().Get<CoordinatorProxyKey>();
        try
        {
            await Task.WhenAny(lifecycle.Outcome, coordinatorGone.Task, system.WhenTerminated, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
            if (lifecycle.Outcome.IsCompleted)
            {
                var outcome = await lifecycle.Outcome.ConfigureAwait(false);
                if (outcome.Kind == WorkerOutcomeKind.CoordinatorStopped)
                {
                    // Let the stopping coordinator leave before rejoining, so the next session finds its successor.
                    await Task.WhenAny(coordinatorGone.Task, system.WhenTerminated, Task.Delay(TimeSpan.FromSeconds(15), CancellationToken.None)).ConfigureAwait(false);
                    return new Session(outcome, false, true, $"the coordinator stopped at step {outcome.Step} ({outcome.Reason})");
                }
                return new Session(outcome, false, lifecycle.Acceptances > 0, outcome.Reason);
            }
            if (cancellationToken.IsCancellationRequested)
                return new Session(null, true, lifecycle.Acceptances > 0, await LeaveAsync(engines, system, log).ConfigureAwait(false));
            string why = coordinatorGone.Task.IsCompleted
                ? await coordinatorGone.Task.ConfigureAwait(false)
                : $"this worker's cluster node stopped (no coordinator answered at {node.SeedNodes[0]}, or it removed this node)";
            return new Session(null, false, lifecycle.Acceptances > 0, why);
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Has every local worker actor tell the coordinator it is leaving (as itself: the coordinator believes a worker's
    /// message only from the registered actor), then waits (at most a minute) until none is inside a segment.
    /// </summary>
    private static async Task<string> LeaveAsync(IReadOnlyList<WorkerEngine> engines, ActorSystem system, ILogger log)
    {
        for (int i = 0; i < engines.Count; i++) system.ActorSelection("/user/" + WorkerHostingExtensions.ActorName(i)).Tell(LeaveRun.Instance);
        await WaitIdleAsync(engines, log).ConfigureAwait(false);
        return $"left at step {engines.Max(e => e.ReplicaStep)} on request";
    }

    /// <summary>Waits (at most a minute) until no engine is inside a segment.</summary>
    private static async Task WaitIdleAsync(IReadOnlyList<WorkerEngine> engines, ILogger log)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        int quiet = 0;
        while (DateTime.UtcNow < deadline && quiet < 3)
        {
            await Task.Delay(250, CancellationToken.None).ConfigureAwait(false);
            quiet = engines.Any(e => e.Busy) ? 0 : quiet + 1;
        }
        if (engines.Any(e => e.Busy)) log.LogWarning("A worker was still inside a step after 60 s; going on anyway");
    }

    /// <summary>The address of this machine that routes to the coordinator (no packet is sent).</summary>
    public static string LocalAddressTowards(string host, int port)
    {
        try
        {
            var target = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
            using var probe = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            probe.Connect(new IPEndPoint(target, port));
            return ((IPEndPoint)probe.LocalEndPoint!).Address.ToString();
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or ArgumentException)
        {
            throw new FaceClusterException($"--join {host}:{port}: no route to the coordinator from this machine ({e.Message}); give --bind", ExitCodes.UserError);
        }
    }
}
