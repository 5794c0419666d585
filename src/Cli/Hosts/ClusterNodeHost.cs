using Akka.Hosting;
using FaceCluster.Common.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FaceCluster.Cli.Hosts;

/// <summary>
/// The generic host of one FaceCluster cluster node: its actor system with logging, network, cluster membership
/// and the binary serializer configured from <see cref="ClusterNodeOptions"/>; the caller adds the node's actors.
/// Ctrl-C and SIGTERM are left to the command (<see cref="ManualHostLifetime"/>).
/// </summary>
public static class ClusterNodeHost
{
    public static IHost Build(ClusterNodeOptions node, ILoggerFactory loggerFactory, Action<AkkaConfigurationBuilder> addActors)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, ManualHostLifetime>();
        builder.Services.AddAkka(ClusterNodeOptions.SystemName, (akka, _) =>
        {
            akka.ConfigureLogging().ConfigureNetwork(node).ConfigureCluster(node).ConfigureSerialization().JoinSelfWhenNoSeeds(node);
            addActors(akka);
        });
        return builder.Build();
    }
}
