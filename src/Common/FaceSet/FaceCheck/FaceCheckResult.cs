namespace FaceCluster.Common.FaceSet.FaceCheck;

/// <summary>
/// What OpenCV's Haar cascades found in one image. <see cref="Found"/>: a frontal face (two cascades) or a face in
/// profile, either way round. The box is the largest frontal face, relative to the image (centre and width as
/// fractions of its width and height); NaN when only a profile was found or nothing was.
/// </summary>
public sealed record FaceCheckResult(bool Found, float CentreX, float CentreY, float Width)
{
    public static FaceCheckResult None { get; } = new(false, float.NaN, float.NaN, float.NaN);

    public bool HasBox => float.IsFinite(CentreX) && float.IsFinite(CentreY) && float.IsFinite(Width);
}
