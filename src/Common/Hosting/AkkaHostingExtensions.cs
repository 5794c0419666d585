using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using FaceCluster.Common.Protocol;
using FaceCluster.Common.Protocol.Serialization;

namespace FaceCluster.Common.Hosting;

/// <summary>
/// Small composable pieces of Akka.Hosting configuration, shared by the coordinator, the workers, the
/// embedded `train` mode and the tests.
/// </summary>
public static class AkkaHostingExtensions
{
    /// <summary>
    /// Akka.Remote on the given address. Frames may carry curation lists of a large face set, never tensors.
    /// With <see cref="ClusterNodeOptions.Tls"/>: mutual TLS, and a peer is accepted only with the cluster's pinned key
    /// (a refusal is logged with the peer's address). Plain TCP only with <see cref="ClusterNodeOptions.Insecure"/>.
    /// </summary>
    public static AkkaConfigurationBuilder ConfigureNetwork(this AkkaConfigurationBuilder builder, ClusterNodeOptions options)
    {
        if (options.Tls == null && !options.Insecure)
            throw new FaceClusterException("Akka.Remote needs the cluster's TLS identity (from its secret), or an explicit --insecure", ExitCodes.UsageError);
        var remote = new RemoteOptions
        {
            HostName = options.Hostname,
            Port = options.Port,
            PublicHostName = options.PublicHostname ?? (options.Hostname is "0.0.0.0" or "::" ? null : options.Hostname),
            MaxFrameSize = 16 * 1024 * 1024,
            SendBufferSize = 32 * 1024 * 1024,
            ReceiveBufferSize = 32 * 1024 * 1024,
        };
        if (options.Tls is { } tls)
        {
            remote.EnableSsl = true;
            remote.Ssl = new SslOptions
            {
                X509Certificate = tls.Certificate,
                SuppressValidation = false,
                RequireMutualAuthentication = true,
                ValidateCertificateHostname = false,
                CustomValidator = (certificate, _, peer, errors, log) =>
                {
                    if (tls.Validate(certificate, peer, errors, out var why)) return true;
                    log.Warning("Akka.Remote: refused {0}: {1}", peer, why);
                    return false;
                },
            };
        }
        return builder.WithRemoting(remote);
    }

    /// <summary>
    /// Akka.Cluster with the node's roles and the Split Brain Resolver's keep-oldest strategy on role
    /// "coordinator": the side of a partition that holds the coordinator (the oldest, and only, coordinator-role node,
    /// which founds the cluster) survives; workers cut off from it are downed, and their processes rejoin once they
    /// reach it again (--coordinator-wait). Down-if-alone is off: with a role it would count only coordinator-role
    /// nodes, and with one coordinator the other side never has two, so it could never apply. A coordinator cut off
    /// from every worker keeps the run (and its checkpoints and ledger); the workers come back to it.
    /// </summary>
    public static AkkaConfigurationBuilder ConfigureCluster(this AkkaConfigurationBuilder builder, ClusterNodeOptions options)
    {
        builder.WithClustering(new ClusterOptions
        {
            Roles = options.Roles.ToArray(),
            SeedNodes = options.SeedNodes.Select(s => ClusterNodeOptions.SeedAddress(s, tls: options.Tls != null)).ToArray(),
            SplitBrainResolver = new KeepOldestOption { Role = ClusterNodeOptions.CoordinatorRole, DownIfAlone = false },
            LogInfo = false,
        });
        return builder.AddHocon($$"""
            akka.cluster {
              split-brain-resolver.stable-after = {{(int)options.DowningStableAfter.TotalMilliseconds}}ms
              failure-detector.acceptable-heartbeat-pause = {{(int)options.AcceptableHeartbeatPause.TotalMilliseconds}}ms
              failure-detector.heartbeat-interval = 1s
              shutdown-after-unsuccessful-join-seed-nodes = 60s
              run-coordinated-shutdown-when-down = on
              # The worker actor says itself, in words, when no coordinator answers its registration.
              singleton-proxy.log-singleton-identification-failure = off
            }
            akka.coordinated-shutdown.exit-clr = off
            # Every facecluster command handles SIGINT/SIGTERM itself (a worker finishes its step, the coordinator
            # checkpoints); Akka's own hook would stop the actor system under them first.
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.remote.dot-netty.tcp.connection-timeout = 5s
            """, HoconAddMode.Prepend);
    }

    /// <summary>
    /// Binds every <see cref="IProtocolMessage"/> to the binary <see cref="ProtocolSerializer"/>, and closes Akka's
    /// JSON fallback (<see cref="ClosedJsonSerializer"/>): no frame becomes an object of a type it names itself.
    /// </summary>
    public static AkkaConfigurationBuilder ConfigureSerialization(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer(ProtocolSerializer.Name, [typeof(IProtocolMessage)], system => new ProtocolSerializer(system))
               .AddHocon(ClosedJsonSerializer.Hocon, HoconAddMode.Prepend);

    /// <summary>Akka's log through Microsoft.Extensions.Logging.</summary>
    public static AkkaConfigurationBuilder ConfigureLogging(this AkkaConfigurationBuilder builder, Akka.Event.LogLevel level = Akka.Event.LogLevel.WarningLevel) =>
        builder.ConfigureLoggers(setup =>
        {
            setup.LogLevel = level;
            setup.ClearLoggers();
            setup.AddLoggerFactory();
        });
}
