using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>What the training thread tells its worker actor; called from the training thread.</summary>
public interface IWorkerEngineEvents
{
    void StepCompleted(StepCompleted step);
    void IdentityProbed(IdentityProbed probe);
    void SegmentFinished(SegmentFinished segment);
    void StepFailed(StepFailed failure);
    /// <summary>The device holds less than calibrated (out of memory): the coordinator plans with the lowered largest batch.</summary>
    void CapacityChanged(WorkerReady ready);
    /// <summary>The worker cannot go on (after the step's StepFailed): its process ends, non-zero, with the reason.</summary>
    void CannotContinue(string reason);
}
