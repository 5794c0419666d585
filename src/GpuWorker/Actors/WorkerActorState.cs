namespace FaceCluster.GpuWorker.Actors;

/// <summary>Asks a worker actor for its <see cref="WorkerPhase"/>.</summary>
public sealed record GetWorkerPhase
{
    public static readonly GetWorkerPhase Instance = new();
}

public enum WorkerPhase { Registering, Preparing, Ready, Refused, Failed, Finished }

/// <summary>The worker actor's state, replaced with `with` on every change.</summary>
public sealed record WorkerActorState(WorkerPhase Phase, long Generation)
{
    public static readonly WorkerActorState Initial = new(WorkerPhase.Registering, -1);
}
