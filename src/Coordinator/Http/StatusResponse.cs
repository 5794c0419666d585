namespace FaceCluster.Coordinator.Http;

/// <summary>GET /api/status: the run and its workers, from the coordinator's ClusterStatus. <paramref name="Step"/>: steps completed (within a segment, as far as its members have reported).</summary>
/// <param name="LedgerWrites">"ok", or "paused: ..." while the ledger cannot write ledger.db (a full disk).</param>
/// <param name="Phase">waiting-for-workers | running | replanning | closing-cycle | finishing | finished</param>
public sealed record StatusResponse(string RunId, string Phase, long Step, long Cycle, long TotalSteps, long Generation, int GlobalBatch,
    double SamplesPerSecond, double? MeanLoss, int Quarantined, long LastCheckpointStep, WorkerStatusResponse[] Workers, string LedgerWrites);
