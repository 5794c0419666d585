namespace FaceCluster.Common.Protocol.Training;

// Worker → coordinator. Sent by worker actors; tensors never travel here (they use the data plane).

/// <summary>What a worker's device is and can do: reported at registration and refreshed every cycle.</summary>
/// <param name="Kind">cpu | cuda | mps</param>
/// <param name="Vendor">NVIDIA, AMD, Intel, Apple, or the CPU's vendor.</param>
/// <param name="MemoryBytes">Device memory (CUDA: from NVML or nvidia-smi; CPU: available RAM).</param>
/// <param name="SamplesPerSecond">Measured by a short calibration on the run's model.</param>
/// <param name="MaxBatch">The largest local batch found to fit by probing.</param>
/// <param name="Note">Anything the operator should know, e.g. a GPU TorchSharp cannot drive.</param>
public sealed record DeviceReport(string Kind, int Index, string Vendor, string Name, long MemoryBytes, double SamplesPerSecond, int MaxBatch, string Note) : IProtocolMessage;

/// <summary>A worker asks to join the run. <paramref name="ReplicaStep"/> is -1 for a worker without a model yet.</summary>
public sealed record RegisterWorker(
    string WorkerId, string Host, int ProtocolVersion, string BuildVersion, string DataPlaneEndpoint,
    DeviceReport Device, long ReplicaStep) : IProtocolMessage;

/// <summary>
/// One applied step: the per-sample losses (reduction none) of the worker's local batch, tagged with sample ids,
/// and where the time went. The coordinator forwards the losses to the ledger.
/// </summary>
public sealed record StepCompleted(
    string WorkerId, long Generation, long Cycle, long Step, int ReportsInStep,
    int[] SampleIds, float[] Losses, double ComputeMs, double DataWaitMs, double AllReduceMs) : IProtocolMessage;

/// <summary>
/// A worker finished its segment (or stopped at a requested step) and waits for the next plan.
/// <paramref name="ReplicaStep"/> is the number of updates its replica has applied (the next step it would run).
/// <paramref name="MeanComputeMs"/> includes <paramref name="MeanUpdateMs"/>, the optimizer update, whose cost does not
/// depend on the local batch: the coordinator balances with both (a step costs fixed + batch × per-sample).
/// </summary>
public sealed record SegmentFinished(
    string WorkerId, long Generation, long Cycle, long ReplicaStep, string ParameterChecksum,
    double SamplesPerSecond, double MeanComputeMs, double MeanDataWaitMs, double MeanAllReduceMs, double MeanUpdateMs,
    DeviceTelemetry? Telemetry = null) : IProtocolMessage;

/// <summary>
/// A step failed (its all-reduce lost a peer or timed out): the worker abandoned the step and waits for a new plan.
/// <paramref name="ReplicaStep"/> is the number of updates its replica has applied.
/// </summary>
public sealed record StepFailed(string WorkerId, long Generation, long Step, long ReplicaStep, string Reason, string SuspectEndpoint) : IProtocolMessage;

/// <summary>
/// A registered worker has built its replica and calibrated its device: it can be planned in.
/// <paramref name="ReplicaStep"/> is the number of updates its replica has applied.
/// </summary>
public sealed record WorkerReady(string WorkerId, DeviceReport Device, long ReplicaStep, string ParameterChecksum) : IProtocolMessage;

/// <summary>A worker leaves gracefully after finishing its current step (CoordinatedShutdown).</summary>
public sealed record WorkerLeaving(string WorkerId, long ReplicaStep) : IProtocolMessage;

/// <summary>
/// Part of a worker's identity probe of its shard at the end of a cycle (see <c>IIdentityProbe</c>): per sample, the
/// loss through its own identity's decoder and the lowest through another's, on the image without augmentation, and
/// the encoder's latent vector of it (<see cref="Latents"/>, row-major, <see cref="LatentWidth"/> floats a sample; empty
/// for a model without one). Large shards come in several messages, each under the remoting frame limit.
/// </summary>
public sealed record IdentityProbed(string WorkerId, long Generation, long Cycle, long Step, int[] SampleIds, float[] OwnLosses, float[] OtherLosses) : IProtocolMessage
{
    public float[] Latents { get; init; } = [];
    public int LatentWidth { get; init; }
}

/// <summary>
/// A step's losses sent again: a worker keeps every <see cref="StepCompleted"/>'s losses until the ledger has them on
/// disk (<see cref="LossesDurable"/>), and sends the unconfirmed ones to a coordinator that accepts it after a restart.
/// The ledger drops a replay of a step it already holds.
/// </summary>
public sealed record LossReplay(string WorkerId, long Cycle, long Step, int ReportsInStep, int[] SampleIds, float[] Losses) : IProtocolMessage;

/// <summary>
/// A worker's device as its driver reports it at the end of a segment: memory used and total, utilisation and
/// temperature (NVIDIA: nvidia-smi). <paramref name="Source"/> names where the figures came from, or why there are
/// none ("n/a: ..."); a figure that is not known is -1 (NaN for the doubles).
/// </summary>
public sealed record DeviceTelemetry(long MemoryUsedBytes, long MemoryTotalBytes, double UtilizationPercent, double TemperatureC, string Source)
{
    public static DeviceTelemetry NotAvailable(string why) => new(-1, -1, double.NaN, double.NaN, "n/a: " + why);

    public bool Available => !Source.StartsWith("n/a", StringComparison.Ordinal);
}
