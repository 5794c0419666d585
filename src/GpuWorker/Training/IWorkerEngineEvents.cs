using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>What the training thread tells its worker actor; called from the training thread.</summary>
public interface IWorkerEngineEvents
{
    void StepCompleted(StepCompleted step);
    void IdentityProbed(IdentityProbed probe);
    void SegmentFinished(SegmentFinished segment);
    void StepFailed(StepFailed failure);
}
