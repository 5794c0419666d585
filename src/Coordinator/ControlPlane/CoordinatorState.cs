using System.Collections.Immutable;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>The coordinator's state, replaced with `with` on every change; the decisions (<see cref="CoordinatorDecisions"/>) are functions over it.</summary>
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
    /// <summary>The step whose state was asked for to write a checkpoint (-1: none).</summary>
    public long PendingCheckpoint { get; init; } = -1;

    /// <summary>The worker asked to publish the state the next plan resyncs from (phase <see cref="CoordinatorPhase.AwaitingState"/>).</summary>
    public string? AwaitingStateFrom { get; init; }

    /// <summary>Why the ledger's writes are paused (a full disk), as it last said; null while they go through.</summary>
    public string? LedgerPausedBecause { get; init; }

    /// <summary>Why the run is being stopped before its planned steps; null while it is not.</summary>
    public string? StopReason { get; init; }

    /// <summary>The reason the run ends with: a requested stop's, or that every planned step is done.</summary>
    public string FinishReason => StopReason ?? "all planned steps are done";

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

    public CoordinatorState WithWorker(WorkerEntry entry) => this with { Workers = Workers.SetItem(entry.Id, entry) };

    /// <summary>The live replicas at the run's step whose checksum is the majority's, by id: the ones others resync from.</summary>
    public IReadOnlyList<WorkerEntry> InSyncWorkers()
    {
        var atStep = Workers.Values.Where(w => w.Alive && w.ReplicaStep == Step).ToList();
        if (atStep.Count == 0) return [];
        string majority = MajorityChecksum(atStep.Select(w => w.Checksum));
        return atStep.Where(w => w.Checksum == majority).OrderBy(w => w.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>The checksum most replicas have (ties: the ordinally first), so every coordinator picks the same one.</summary>
    public static string MajorityChecksum(IEnumerable<string> checksums) =>
        checksums.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
}
