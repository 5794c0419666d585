using Akka.Actor;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>Everything the coordinator needs to run one training run.</summary>
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
    TimeSpan FailureGrace,
    Func<Props>? LedgerProps,
    IRunCheckpointer? Checkpoints,
    ResumePoint? Resume,
    ICoordinatorObserver? Observer)
{
    public int StepsPerCycle => Run.StepsPerCycle;

    /// <summary>Split every global batch equally instead of by measured speed (the baseline of `bench hetero`, and both runs of `bench curation`).</summary>
    public bool EqualBatches { get; init; }

    /// <summary>
    /// Steps of a segment whose measured compute times are compared, after the first <see cref="RebalanceSkipSteps"/>,
    /// before the coordinator decides whether to re-split the batch within the cycle (0: only at segment boundaries).
    /// The calibration before the first plan takes a fraction of a second; a long cycle planned on a misleading one
    /// would keep a fast worker waiting for a slow one until the cycle ends.
    /// </summary>
    public int RebalanceSampleSteps { get; init; } = 8;

    /// <summary>The first steps of a segment, left out of the measurement (the loaders and the ring are starting).</summary>
    public int RebalanceSkipSteps { get; init; } = 2;

    /// <summary>Re-split only when the slowest member's compute per step would drop by at least this fraction.</summary>
    public double RebalanceMinGain { get; init; } = 0.1;

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
