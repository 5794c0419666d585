using Akka.Cluster.Hosting;
using Akka.Hosting;
using FaceCluster.Common.Hosting;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Hosting;

public static class CoordinatorHostingExtensions
{
    /// <summary>
    /// The coordinator as a cluster singleton on role "coordinator", with a proxy registered under
    /// <see cref="CoordinatorProxyKey"/>, and the ledger protocol's serializer.
    /// </summary>
    public static AkkaConfigurationBuilder WithCoordinator(this AkkaConfigurationBuilder builder, CoordinatorSettings settings) =>
        builder.ConfigureLedgerSerialization()
            .WithSingleton<CoordinatorProxyKey>("coordinator", (_, _, _) => CoordinatorActor.Props(settings),
                new ClusterSingletonOptions { Role = ClusterNodeOptions.CoordinatorRole }, createProxyToo: true);

    /// <summary>Binds every <see cref="ILedgerMessage"/> to the binary <see cref="LedgerProtocolSerializer"/>.</summary>
    public static AkkaConfigurationBuilder ConfigureLedgerSerialization(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer(LedgerProtocolSerializer.Name, [typeof(ILedgerMessage)], system => new LedgerProtocolSerializer(system));
}
