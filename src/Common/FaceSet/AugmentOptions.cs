
namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Training augmentation, the faceswap way. Every range is symmetric: a value is drawn uniformly from
/// [-range, +range] for each image.
/// </summary>
/// <param name="RotationDegrees">Random rotation about the centre, in degrees.</param>
/// <param name="ScaleRange">Random zoom: the scale factor is 1 ± this.</param>
/// <param name="ShiftRange">Random shift along each axis, as a fraction of the image side.</param>
/// <param name="FlipProbability">Probability of a horizontal flip.</param>
/// <param name="BrightnessRange">Added brightness, as a fraction of full scale (255).</param>
/// <param name="ContrastRange">Contrast factor about mid-grey: 1 ± this.</param>
/// <param name="HueShiftDegrees">Hue rotation in degrees (of 360).</param>
/// <param name="SaturationRange">Saturation factor: 1 ± this.</param>
/// <param name="RandomWarp">Faceswap's random warp of the input (Reconstruction batches only).</param>
/// <param name="WarpGridPoints">Control points per side of the warp grid (faceswap: 5).</param>
/// <param name="WarpStrength">Standard deviation of the control-point displacement, as a fraction of the
/// image side (faceswap: 5 px at 256 px).</param>
public sealed record AugmentOptions(
    double RotationDegrees = 10,
    double ScaleRange = 0.05,
    double ShiftRange = 0.05,
    double FlipProbability = 0.5,
    double BrightnessRange = 0.1,
    double ContrastRange = 0.1,
    double HueShiftDegrees = 6,
    double SaturationRange = 0.1,
    bool RandomWarp = true,
    int WarpGridPoints = 5,
    double WarpStrength = 5.0 / 256.0)
{
    /// <summary>The defaults: rotation ±10°, scale ±5%, shift ±5%, flip p=0.5, brightness/contrast ±10%,
    /// hue ±6°, saturation ±10%, random warp on a 5×5 grid.</summary>
    public static AugmentOptions Default { get; } = new();

    /// <summary>No augmentation at all: targets and inputs are the decoded image.</summary>
    public static AugmentOptions None { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, false, 5, 0);

    /// <summary>Throws <see cref="FaceClusterException"/> naming the value that is out of range.</summary>
    public void Validate()
    {
        Check(RotationDegrees is >= 0 and <= 180, nameof(RotationDegrees), RotationDegrees, "in [0, 180]");
        Check(ScaleRange is >= 0 and < 1, nameof(ScaleRange), ScaleRange, "in [0, 1)");
        Check(ShiftRange is >= 0 and <= 1, nameof(ShiftRange), ShiftRange, "in [0, 1]");
        Check(FlipProbability is >= 0 and <= 1, nameof(FlipProbability), FlipProbability, "in [0, 1]");
        Check(BrightnessRange is >= 0 and <= 1, nameof(BrightnessRange), BrightnessRange, "in [0, 1]");
        Check(ContrastRange is >= 0 and < 1, nameof(ContrastRange), ContrastRange, "in [0, 1)");
        Check(HueShiftDegrees is >= 0 and <= 180, nameof(HueShiftDegrees), HueShiftDegrees, "in [0, 180]");
        Check(SaturationRange is >= 0 and <= 1, nameof(SaturationRange), SaturationRange, "in [0, 1]");
        Check(WarpGridPoints is >= 2 and <= 64, nameof(WarpGridPoints), WarpGridPoints, "in [2, 64]");
        Check(WarpStrength is >= 0 and <= 0.5, nameof(WarpStrength), WarpStrength, "in [0, 0.5]");
    }

    private static void Check(bool ok, string name, double value, string rule)
    {
        if (!ok) throw new FaceClusterException($"augmentation {name} {value}: must be {rule}", ExitCodes.UsageError);
    }
}
