namespace FaceCluster.Common.Models.Training;

/// <summary>
/// The first half of a step: per-sample losses (reduction none, in batch order) and the time spent computing
/// gradients. <see cref="NonFinite"/> counts samples whose loss was NaN or infinite; their gradient is left out.
/// </summary>
/// <param name="CopyTime">Of <paramref name="ComputeTime"/>, the copy of the gradients from the device to host memory (zero on a CPU).</param>
public sealed record StepResult(int[] SampleIds, float[] Losses, TimeSpan ComputeTime, int NonFinite, TimeSpan CopyTime = default)
{
    public double MeanLoss
    {
        get
        {
            double sum = 0; int n = 0;
            foreach (float l in Losses) if (float.IsFinite(l)) { sum += l; n++; }
            return n == 0 ? double.NaN : sum / n;
        }
    }
}
