namespace FaceCluster.Common.Models.Training;

/// <summary>
/// A contiguous run of the flat gradient buffer whose gradients backward completes together: the ring reduces it as
/// soon as it is ready (<see cref="ReplicaTrainer.Buckets"/>), while backward computes the next.
/// </summary>
/// <param name="Name">What it holds, for the step's timeline ("decoders", "encoder", "all").</param>
public sealed record GradientBucket(string Name, int Offset, int Count);
