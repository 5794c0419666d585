namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>Asks the coordinator for the run's status (GET /api/status, tests); the reply is <see cref="ClusterStatus"/>. Asked on the coordinator's node.</summary>
public sealed record GetClusterStatus
{
    public static readonly GetClusterStatus Instance = new();
}

/// <summary>One worker as the coordinator sees it. <paramref name="ReplicaStep"/> and <paramref name="Checksum"/>: its replica's update count and parameter checksum as last reported.</summary>
/// <param name="State">preparing | ready | active | leaving | lost</param>
/// <param name="Memory">"used / total GiB" of the device, or "n/a" (see <paramref name="Telemetry"/>).</param>
/// <param name="Utilization">"NN %" of the device, with its temperature, or "n/a".</param>
/// <param name="Telemetry">Where the device figures came from, or why there are none.</param>
public sealed record WorkerStatus(string Id, string Host, string Device, string State, int Batch, double SamplesPerSecond, long LastStep, string Note,
    long ReplicaStep, string Checksum, string Memory = "n/a", string Utilization = "n/a", string Telemetry = "n/a: not reported yet");

/// <summary>The run as the coordinator sees it: its public status.</summary>
/// <param name="State">waiting-for-workers | running | replanning | closing-cycle | checkpointing | finishing | finished</param>
/// <param name="MeanLoss">The smoothed mean loss of the recent steps; NaN before the first.</param>
/// <param name="Quarantined">Samples excluded from training.</param>
/// <param name="LastCheckpointStep">The step of the newest checkpoint on disk; -1 before the first.</param>
/// <param name="LedgerWrites">"ok", or "paused: " and why the ledger cannot write ledger.db (its records are held in memory).</param>
public sealed record ClusterStatus(string RunId, string State, long Step, long Cycle, long TotalSteps, long Generation, int GlobalBatch, double SamplesPerSecond,
    WorkerStatus[] Workers, double MeanLoss, int Quarantined, long LastCheckpointStep, string LedgerWrites = "ok");
