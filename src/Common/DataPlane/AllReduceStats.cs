namespace FaceCluster.Common.DataPlane;

/// <summary>
/// What one <see cref="RingSession.AllReduceSum"/> moved. Byte counts are everything written to or read from
/// the sockets, frame headers included; <see cref="PayloadBytesSent"/> is the tensor data alone.
/// </summary>
public sealed record AllReduceStats(long Step, int Count, long BytesSent, long BytesReceived, long PayloadBytesSent, TimeSpan Elapsed);
