namespace FaceCluster.Common.Protocol.Training;

/// <summary>Asks the coordinator for the cluster view (GET /api/status).</summary>
public sealed record GetClusterStatus : IProtocolMessage
{
    public static readonly GetClusterStatus Instance = new();
}

public sealed record WorkerStatus(string Id, string Host, string Device, string State, int Batch, double SamplesPerSecond, long LastStep, string Note) : IProtocolMessage;

/// <param name="State">waiting-for-workers | running | replanning | closing-cycle | finished</param>
public sealed record ClusterStatus(string RunId, string State, long Step, long Cycle, long TotalSteps, long Generation, int GlobalBatch, double SamplesPerSecond, WorkerStatus[] Workers) : IProtocolMessage;
