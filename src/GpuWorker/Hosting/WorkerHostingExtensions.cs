using Akka.Cluster.Hosting;
using Akka.Hosting;
using FaceCluster.Common.Hosting;
using FaceCluster.GpuWorker.Actors;
using FaceCluster.GpuWorker.Training;

namespace FaceCluster.GpuWorker.Hosting;

public static class WorkerHostingExtensions
{
    /// <summary>The name of the worker actor of engine <paramref name="index"/> (under /user).</summary>
    public static string ActorName(int index) => "worker-" + index;

    /// <summary>
    /// One worker actor per engine (device), each talking to the coordinator singleton through its proxy.
    /// <paramref name="createProxy"/>: false on a node that also hosts the coordinator (its singleton registration made the proxy).
    /// </summary>
    public static AkkaConfigurationBuilder WithWorkers(this AkkaConfigurationBuilder builder, IReadOnlyList<WorkerEngine> engines,
        IFaceSetProvider faceSets, WorkerLifecycle lifecycle, bool createProxy = true)
    {
        if (createProxy)
            builder.WithSingletonProxy<CoordinatorProxyKey>("coordinator", new ClusterSingletonOptions { Role = ClusterNodeOptions.CoordinatorRole });
        return builder.WithActors((system, registry) =>
        {
            var coordinator = registry.Get<CoordinatorProxyKey>();
            for (int i = 0; i < engines.Count; i++)
                system.ActorOf(WorkerActor.Props(engines[i], coordinator, faceSets, lifecycle), ActorName(i));
        });
    }
}
