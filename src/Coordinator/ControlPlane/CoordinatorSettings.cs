using Akka.Actor;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>Everything the coordinator needs to run one training run.</summary>
/// <param name="TrainingIds">The manifest's training samples (shards are drawn from these minus the quarantined).</param>
/// <param name="MinWorkers">Workers needed before the first step; afterwards training continues with whoever is left.</param>
/// <param name="FailureGrace">After a step fails, how long to wait for every member to report before the silent ones are taken for gone.</param>
/// <param name="LedgerProps">Creates the ledger actor (a child of the coordinator, on the coordinator's node).</param>
/// <param name="Checkpoints">Saves run state; null disables checkpoints (tests).</param>
/// <param name="Resume">Where a resumed run starts; null for a fresh run.</param>
public sealed record CoordinatorSettings(
    RunSpec Run,
    int GlobalBatch,
    long TotalSteps,
    int MinWorkers,
    IReadOnlyList<int> TrainingIds,
    TimeSpan FailureGrace,
    Func<Props>? LedgerProps,
    IRunCheckpointer? Checkpoints,
    ResumePoint? Resume,
    ICoordinatorObserver? Observer)
{
    public int StepsPerCycle => Run.StepsPerCycle;

    /// <summary>Split every global batch equally instead of by measured speed (the baseline of `bench hetero`, and both runs of `bench curation`).</summary>
    public bool EqualBatches { get; init; }

    /// <summary>Workers probe their shards (see <c>IIdentityProbe</c>) at the end of every this-many-th cycle; 0 never.</summary>
    public int ProbeEveryCycles { get; init; }

    /// <summary>No probe in a cycle that ends before this step (the curation warm-up).</summary>
    public long ProbeFromStep { get; init; }

    /// <summary>Whether the segment of <paramref name="cycle"/> ending at <paramref name="toStep"/> ends with an identity probe.</summary>
    public bool ProbesAt(long cycle, long toStep) =>
        ProbeEveryCycles > 0 && toStep >= ProbeFromStep && toStep == (cycle + 1) * StepsPerCycle && (cycle + 1) % ProbeEveryCycles == 0;
}

/// <summary>Where a resumed run picks up: its counters, its curation state, and who serves its weights.</summary>
/// <param name="StateEndpoint">A data-plane endpoint serving the checkpoint's state (the coordinator's own).</param>
public sealed record ResumePoint(long Step, long Cycle, int[] Excluded, int[] RefeedIds, float[] RefeedWeights, string StateEndpoint, string Checksum);
