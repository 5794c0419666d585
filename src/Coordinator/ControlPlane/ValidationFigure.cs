namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>
/// A checkpoint measured on the validation split (never trained on): the autoencoder's mean reconstruction loss
/// ("validation/loss"), the triplet model's 10-fold verification accuracy ("validation/accuracy"), or the quality
/// model's good/bad accuracy ("validation/good-bad-accuracy").
/// </summary>
/// <param name="Images">Validation images measured.</param>
public sealed record ValidationFigure(string Name, double Value, bool HigherIsBetter, int Images)
{
    /// <summary>Lower is better: what the checkpoint store ranks "best" by.</summary>
    public double Metric => HigherIsBetter ? 1 - Value : Value;

    public override string ToString() => $"{Name} {Value:F4} ({Images} images)";
}

/// <summary>A written checkpoint: its folder, and its validation figure when the run has one.</summary>
public sealed record SavedCheckpoint(string Directory, ValidationFigure? Validation);
