using FaceCluster.Common.Models.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>The local batches of one segment, produced ahead of time and handed out in step order.</summary>
public interface ISegmentBatches : IDisposable
{
    /// <summary>The batch of the next step; blocks while it is being prepared.</summary>
    TrainBatch Take(CancellationToken cancellationToken);

    /// <summary>
    /// Hands a taken batch's image arrays back for later batches once the step no longer needs them (saves
    /// allocating large arrays every step). The batch's inputs and targets must not be used afterwards.
    /// </summary>
    void Recycle(TrainBatch batch);
}
