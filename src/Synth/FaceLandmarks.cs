using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>Where the painter put the main features, in canvas fractions (used to place occluders).</summary>
internal readonly record struct FaceLandmarks(Point2d LeftEye, Point2d RightEye, Point2d NoseTip, Point2d Mouth, Point2d Chin)
{
    public Point2d EyeMidpoint => new((LeftEye.X + RightEye.X) / 2, (LeftEye.Y + RightEye.Y) / 2);
}
