using System.Collections.Immutable;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>The coordinator's state, replaced with `with` on every change.</summary>
/// <param name="Step">Completed steps: the next step to run.</param>
/// <param name="Published">Worker id → the step whose state it currently serves on its data plane.</param>
public sealed record CoordinatorState(
    CoordinatorPhase Phase, long Step, long Cycle, long Generation,
    ImmutableDictionary<string, WorkerEntry> Workers,
    SegmentState? Segment,
    ImmutableHashSet<int> Excluded,
    ImmutableDictionary<int, float> Refeed,
    ImmutableDictionary<string, long> Published,
    double MeanLoss, double SamplesPerSecond, long CheckpointsInFlight, long LastCheckpointStep)
{
    public static CoordinatorState Initial(CoordinatorSettings s) => new(
        CoordinatorPhase.WaitingForWorkers,
        s.Resume?.Step ?? 0,
        s.Resume?.Cycle ?? 0,
        0,
        ImmutableDictionary<string, WorkerEntry>.Empty,
        null,
        (s.Resume?.Excluded ?? []).ToImmutableHashSet(),
        Zip(s.Resume?.RefeedIds ?? [], s.Resume?.RefeedWeights ?? []),
        ImmutableDictionary<string, long>.Empty,
        double.NaN, 0, 0, s.Resume?.Step ?? -1);

    private static ImmutableDictionary<int, float> Zip(int[] ids, float[] weights) =>
        ids.Zip(weights).ToImmutableDictionary(p => p.First, p => p.Second);

    public WorkerEntry? ByRef(Akka.Actor.IActorRef r) => Workers.Values.FirstOrDefault(w => w.Ref.Equals(r));
}
