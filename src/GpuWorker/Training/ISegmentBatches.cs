using FaceCluster.Common.Models.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>The local batches of one segment, produced ahead of time and handed out in step order.</summary>
public interface ISegmentBatches : IDisposable
{
    /// <summary>The batch of the next step; blocks while it is being prepared.</summary>
    TrainBatch Take(CancellationToken cancellationToken);
}
