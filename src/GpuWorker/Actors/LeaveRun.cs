namespace FaceCluster.GpuWorker.Actors;

/// <summary>
/// Told by the worker's own process (a graceful stop): the actor tells the coordinator <c>WorkerLeaving</c> as itself,
/// the sender the coordinator registered (a message from anyone else claiming the worker's id is dropped).
/// </summary>
public sealed record LeaveRun
{
    public static readonly LeaveRun Instance = new();
}
