namespace FaceCluster.Coordinator.ControlPlane;

public enum CoordinatorPhase
{
    WaitingForWorkers,
    /// <summary>Waiting for a worker to publish the state that others resync from.</summary>
    AwaitingState,
    Running,
    /// <summary>A step failed: waiting for the members to report (or the grace to expire) before planning again.</summary>
    Replanning,
    /// <summary>Waiting for the ledger's directives at the end of a cycle.</summary>
    ClosingCycle,
    /// <summary>The cycle's checkpoint is being written; the next cycle starts when it is on disk, so a crash loses at most one cycle.</summary>
    Checkpointing,
    /// <summary>All steps done; writing the final checkpoint.</summary>
    Finishing,
    Finished,
}
