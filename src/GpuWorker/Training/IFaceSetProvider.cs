using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>Opens the run's face set for a worker: the local folder when it can see it, else over HTTP from the coordinator.</summary>
public interface IFaceSetProvider
{
    Task<IFaceSetView> OpenAsync(RunSpec run, CancellationToken cancellationToken);
}
