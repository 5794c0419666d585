using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>What the coordinator tells its host (progress display, metrics). Called on the actor's thread: return quickly.</summary>
public interface ICoordinatorObserver
{
    void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond);
    void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal);
    void CheckpointSaved(long step, string directory);
    void Message(string text);
    void Finished(long step, string reason);
}
