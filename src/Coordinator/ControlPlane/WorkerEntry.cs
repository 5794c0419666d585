using Akka.Actor;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>Where a worker is in its life, as the coordinator sees it.</summary>
public enum WorkerLife
{
    /// <summary>Accepted; building and calibrating its replica.</summary>
    Preparing,
    /// <summary>Can be planned in.</summary>
    Ready,
    /// <summary>A member of the current segment.</summary>
    Active,
    /// <summary>Leaving gracefully at the next step boundary.</summary>
    Leaving,
    /// <summary>Its actor or node is gone, or it went silent after a failed step.</summary>
    Lost,
}

/// <summary>The coordinator's record of one worker.</summary>
public sealed record WorkerEntry(
    string Id, IActorRef Ref, string Host, string Endpoint, DeviceReport Device, WorkerLife Life,
    long ReplicaStep, string Checksum, int Batch, double SamplesPerSecond, long LastStep)
{
    public bool Alive => Life is WorkerLife.Ready or WorkerLife.Active;

    /// <summary>Measured cost of a step that does not depend on the local batch (the optimizer update), in ms; 0 until measured.</summary>
    public double FixedMs { get; init; }

    /// <summary>Measured cost of one more sample in a step (forward and backward), in ms; 0 until measured.</summary>
    public double MsPerSample { get; init; }

    /// <summary>The device's memory, utilisation and temperature at the end of its last segment; null until reported.</summary>
    public DeviceTelemetry? Telemetry { get; init; }
}
