
namespace FaceCluster.Common.Models.Quality;

/// <summary>In-process training of the quality classifier: steps of balanced batches (half good, half bad) on one replica.</summary>
public sealed record QualityTrainingOptions(int Steps = 300, int Batch = 32, double LearningRate = 1e-3, ulong Seed = 1)
{
    public void Validate()
    {
        if (Steps < 1) throw new FaceClusterException($"--steps must be at least 1, got {Steps}", ExitCodes.UsageError);
        if (Batch < 2) throw new FaceClusterException($"--batch must be at least 2 (one good and one bad image), got {Batch}", ExitCodes.UsageError);
        if (!(LearningRate > 0) || LearningRate > 1) throw new FaceClusterException($"--learning-rate must be in (0, 1], got {LearningRate}", ExitCodes.UsageError);
    }
}
