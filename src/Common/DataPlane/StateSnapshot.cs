namespace FaceCluster.Common.DataPlane;

/// <summary>
/// A replica's full state (model and optimizer, serialised by the owner) at a training step, as served to a
/// joining or diverged worker. The payload must not change while it is being served.
/// </summary>
public sealed record StateSnapshot(long Step, ReadOnlyMemory<byte> Payload);
