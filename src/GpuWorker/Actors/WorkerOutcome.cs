namespace FaceCluster.GpuWorker.Actors;

public enum WorkerOutcomeKind
{
    /// <summary>The run is over: every planned step is done.</summary>
    Finished,
    /// <summary>The coordinator stopped before the run was done (it checkpointed); the replica is kept for its return.</summary>
    CoordinatorStopped,
    /// <summary>The coordinator refused this worker (another protocol or build).</summary>
    Refused,
    /// <summary>The worker could not prepare the run (face set or model).</summary>
    PreparationFailed,
    /// <summary>The worker cannot go on training (an unusable device, repeated unexpected failures).</summary>
    Failed,
}

/// <summary>How a worker actor's part in a run ended, at <paramref name="Step"/> (-1 when it never trained).</summary>
public sealed record WorkerOutcome(WorkerOutcomeKind Kind, long Step, string Reason);
