namespace FaceCluster.Coordinator.ControlPlane;

public static partial class CoordinatorDecisions
{
    /// <summary>The run's public status, from the state record (what GET /api/status shows).</summary>
    public static ClusterStatus Status(CoordinatorState s, CoordinatorSettings settings) => new(
        settings.Run.RunId, PhaseName(s.Phase), s.Step, s.Cycle, settings.TotalSteps, s.Generation, settings.GlobalBatch, s.SamplesPerSecond,
        s.Workers.Values.OrderBy(w => w.Id, StringComparer.Ordinal).Select(w => new WorkerStatus(
            w.Id, w.Host, w.Device.Kind == "cpu" ? "cpu" : $"{w.Device.Kind}:{w.Device.Index} {w.Device.Name}",
            w.Life.ToString().ToLowerInvariant(), w.Batch, w.SamplesPerSecond, w.LastStep, w.Device.Note, w.ReplicaStep, w.Checksum)).ToArray(),
        s.MeanLoss, s.Excluded.Count, s.LastCheckpointStep, s.LedgerPausedBecause is { } why ? "paused: " + why : "ok");

    public static string PhaseName(CoordinatorPhase phase) => phase switch
    {
        CoordinatorPhase.WaitingForWorkers => "waiting-for-workers",
        CoordinatorPhase.AwaitingState => "replanning",
        CoordinatorPhase.Running => "running",
        CoordinatorPhase.Replanning => "replanning",
        CoordinatorPhase.ClosingCycle => "closing-cycle",
        CoordinatorPhase.Checkpointing => "checkpointing",
        CoordinatorPhase.Finishing => "finishing",
        _ => "finished",
    };
}
