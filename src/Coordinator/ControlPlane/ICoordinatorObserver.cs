
namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>What the coordinator tells its host (progress display, metrics). Called on the actor's thread: return quickly.</summary>
public interface ICoordinatorObserver
{
    /// <param name="stepMilliseconds">The step's own duration on the worker that reports it (data wait, compute, all-reduce, update).</param>
    void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond, double stepMilliseconds);
    void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal);
    void CheckpointSaved(long step, string directory);
    /// <summary>The checkpoint of <paramref name="step"/> measured on the validation split (after <see cref="CheckpointSaved"/>).</summary>
    void Validated(long step, ValidationFigure figure) { }
    void Message(string text);
    void Finished(long step, string reason);
}
