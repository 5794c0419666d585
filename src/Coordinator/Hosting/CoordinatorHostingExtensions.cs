using Akka.Cluster.Hosting;
using Akka.Hosting;
using FaceCluster.Common.Hosting;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Hosting;

public static class CoordinatorHostingExtensions
{
    /// <summary>The coordinator as a cluster singleton on role "coordinator", with a proxy registered under <see cref="CoordinatorProxyKey"/>.</summary>
    public static AkkaConfigurationBuilder WithCoordinator(this AkkaConfigurationBuilder builder, CoordinatorSettings settings) =>
        builder.WithSingleton<CoordinatorProxyKey>("coordinator", (_, _, _) => CoordinatorActor.Props(settings),
            new ClusterSingletonOptions { Role = ClusterNodeOptions.CoordinatorRole }, createProxyToo: true);
}
