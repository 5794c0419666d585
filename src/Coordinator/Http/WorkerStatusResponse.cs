namespace FaceCluster.Coordinator.Http;

/// <summary>One worker in GET /api/status. <paramref name="ReplicaStep"/> and <paramref name="Checksum"/> are its replica's update count and parameter checksum as last reported.</summary>
public sealed record WorkerStatusResponse(string Id, string Host, string Device, string State, int Batch, double SamplesPerSecond, long LastStep, string Note,
    long ReplicaStep, string Checksum, string Memory, string Utilization, string Telemetry);
