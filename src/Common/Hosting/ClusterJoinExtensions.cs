using Akka.Cluster;
using Akka.Hosting;

namespace FaceCluster.Common.Hosting;

public static class ClusterJoinExtensions
{
    /// <summary>A node without seed nodes founds the cluster: it joins itself once remoting has bound its port.</summary>
    public static AkkaConfigurationBuilder JoinSelfWhenNoSeeds(this AkkaConfigurationBuilder builder, ClusterNodeOptions options)
    {
        if (options.SeedNodes.Count > 0) return builder;
        return builder.AddStartup((system, _) =>
        {
            var cluster = Cluster.Get(system);
            cluster.Join(cluster.SelfAddress);
        });
    }
}
