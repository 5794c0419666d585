namespace FaceCluster.GpuWorker.Training;

/// <param name="WorkerId">Unique in the cluster, e.g. host/cuda:0.</param>
/// <param name="Threads">libtorch intra-op threads for this worker (0 = libtorch's default).</param>
/// <param name="MaxBatch">Upper bound for the batch probe (0 = probe up to the device's default cap).</param>
/// <param name="AllReduceTimeout">A step whose all-reduce makes no progress for this long is abandoned.</param>
/// <param name="UpdateOn">Where the Adam update runs (<c>--update-on</c>): auto, host or device (<see cref="Common.Models.Training.UpdatePlacements"/>).</param>
/// <param name="Overlap">Reduce each gradient bucket while backward computes the next (<c>--overlap on</c>, the default), or after backward (off).</param>
public sealed record WorkerEngineOptions(string WorkerId, int Threads = 0, int MaxBatch = 0, TimeSpan? AllReduceTimeout = null, string UpdateOn = "auto", bool Overlap = true)
{
    public TimeSpan EffectiveAllReduceTimeout => AllReduceTimeout ?? TimeSpan.FromSeconds(20);
}
