namespace FaceCluster.Common.Protocol.Training;

// Coordinator → worker.

/// <summary>What every replica of the run must agree on.</summary>
/// <param name="Accumulate">Micro-batches per local batch (--accumulate): forward and backward in parts, gradients accumulated.</param>
public sealed record RunSpec(
    string RunId, string ModelKind, string Preset, string[] Labels, string ManifestHash,
    string DataRoot, string HttpBaseUrl, double LearningRate, double SsimWeight, ulong Seed,
    int StepsPerCycle, bool Augment, int Accumulate = 1, DataPlane.WireFormat Wire = DataPlane.WireFormat.Fp32) : IProtocolMessage;

public sealed record RegistrationAccepted(string WorkerId, RunSpec Run) : IProtocolMessage;

/// <summary>Refused at join, e.g. another protocol version: the reason names both versions.</summary>
public sealed record RegistrationRefused(string WorkerId, string Reason, int CoordinatorProtocol, string CoordinatorBuild) : IProtocolMessage;

/// <summary>
/// The plan for steps [FromStep, ToStep) of a cycle. Ranks follow the ring order. Every worker derives the same
/// disjoint shards from (ShardSeed, Cycle, the manifest's training samples minus Excluded), split in proportion
/// to LocalBatches, so shards never travel. Re-fed samples are oversampled by their weight within a shard.
/// A non-empty ResyncFromEndpoint tells the worker to adopt that peer's state (at ResyncStep) first.
/// ProbeIdentity asks the worker, once the segment has run to ToStep, to probe every sample of its shard with a model
/// that is an identity probe and report <see cref="IdentityProbed"/> before <see cref="SegmentFinished"/>.
/// </summary>
public sealed record SegmentPlan(
    long Generation, long Cycle, long FromStep, long ToStep, int GlobalBatch,
    string[] RingWorkerIds, string[] RingEndpoints, int[] LocalBatches, int Rank,
    ulong ShardSeed, int[] Excluded, int[] RefeedIds, float[] RefeedWeights,
    string ResyncFromEndpoint, long ResyncStep, bool ProbeIdentity = false) : IProtocolMessage;

/// <summary>Stop after completing <paramref name="Step"/> (a worker joins or leaves at that step boundary).</summary>
public sealed record StopAtStep(long Generation, long Step) : IProtocolMessage;

/// <summary>Abandon the current segment at once (its all-reduce peers changed).</summary>
public sealed record AbortSegment(long Generation, string Reason) : IProtocolMessage;

/// <summary>Ask a worker to publish its state for a checkpoint: it replies with <see cref="StateReady"/> once its data plane serves it.</summary>
public sealed record PublishState(long Step) : IProtocolMessage;

/// <summary>The worker's data plane serves its state at <paramref name="Step"/>.</summary>
public sealed record StateReady(string WorkerId, long Step, string DataPlaneEndpoint, string ParameterChecksum) : IProtocolMessage;

/// <summary>The run is over (planned steps done, or stopped): workers stop and may exit.</summary>
public sealed record TrainingFinished(long Step, string Reason) : IProtocolMessage;

/// <summary>
/// The coordinator stops before the planned steps are done (a graceful stop or a restart), with its state
/// checkpointed at <paramref name="Step"/>. Workers keep their replicas and wait for a coordinator to come back.
/// </summary>
public sealed record CoordinatorStopping(long Step, string Reason) : IProtocolMessage;

/// <summary>The ledger holds, on disk, every loss report of this worker through <paramref name="ThroughStep"/>: the worker may forget them.</summary>
public sealed record LossesDurable(long ThroughStep) : IProtocolMessage;
