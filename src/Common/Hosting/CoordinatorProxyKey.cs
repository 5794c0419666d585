namespace FaceCluster.Common.Hosting;

/// <summary>Akka.Hosting registry key of the coordinator singleton (its proxy, on every node).</summary>
public sealed class CoordinatorProxyKey;
