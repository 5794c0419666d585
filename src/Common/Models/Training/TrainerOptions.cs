
namespace FaceCluster.Common.Models.Training;

/// <summary>Optimizer settings. Adam with beta1 0.5 follows faceswap.</summary>
public sealed record TrainerOptions(double LearningRate, double Beta1 = 0.5, double Beta2 = 0.999, double Epsilon = 1e-7)
{
    /// <summary>Host threads for the optimizer update (a CPU worker: its libtorch threads; a GPU worker: the host's cores).</summary>
    public int UpdateThreads { get; init; } = 1;

    /// <summary>Where the Adam update runs: the host (<see cref="FlatAdam"/>) or the device (<see cref="DeviceAdam"/>).</summary>
    public UpdatePlacement UpdateOn { get; init; } = UpdatePlacement.Host;

    /// <summary>Defaults per preset: a small model on a CPU can take a larger step.</summary>
    public static TrainerOptions For(ModelPreset preset) =>
        new(preset.Name == ModelPreset.Tiny.Name ? 5e-4 : 5e-5);

    public void Validate()
    {
        if (!(LearningRate > 0) || LearningRate > 1) throw new FaceClusterException($"--learning-rate must be in (0, 1], got {LearningRate}", ExitCodes.UsageError);
        if (Beta1 < 0 || Beta1 >= 1 || Beta2 < 0 || Beta2 >= 1) throw new FaceClusterException($"Adam betas must be in [0, 1), got {Beta1} and {Beta2}", ExitCodes.UsageError);
    }
}
