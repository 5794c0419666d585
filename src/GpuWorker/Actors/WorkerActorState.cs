namespace FaceCluster.GpuWorker.Actors;

/// <summary>Asks a worker actor for its <see cref="WorkerPhase"/>.</summary>
public sealed record GetWorkerPhase
{
    public static readonly GetWorkerPhase Instance = new();
}

public enum WorkerPhase { Registering, Preparing, Ready, Refused, Failed, Finished }

/// <summary>The worker actor's state, replaced with `with` on every change.</summary>
/// <param name="Coordinator">The coordinator actor that answered the registration: the only sender of orders obeyed.</param>
public sealed record WorkerActorState(WorkerPhase Phase, long Generation, Akka.Actor.IActorRef? Coordinator = null)
{
    public static readonly WorkerActorState Initial = new(WorkerPhase.Registering, -1);
}
