using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>
/// Maps face-local points to canvas fractions. Face-local coordinates are fractions of the image side with the
/// origin at the midpoint between the eyes, x to the right and y down. Each point gets a depth from an
/// ellipsoidal head (plus a per-shape extra, e.g. the nose tip sticks out), is rotated by yaw and pitch,
/// re-centred the way a face aligner would keep the eyes in place, rolled about the eye midpoint, placed with the
/// eye line at 45 % of the height, and finally moved by the crop transform (used only for misaligned crops).
/// </summary>
internal sealed class FaceProjection
{
    /// <summary>Where an aligned crop puts the eye midpoint.</summary>
    public const double EyeLineX = 0.5, EyeLineY = 0.45;

    private const double DepthRadiusZ = 0.24, DepthRadiusY = 0.5, DepthCentreY = 0.08;
    /// <summary>How much of the eye shift caused by yaw/pitch the aligner takes back out.</summary>
    private const double Recentre = 0.8;

    private readonly double _rx, _cy, _sy, _cp, _sp, _cr, _sr, _offsetX, _offsetY;
    private readonly double _cropScale, _cropCos, _cropSin, _cropShiftX, _cropShiftY;

    public FaceProjection(double faceHalfWidth, FaceVariation v)
    {
        _rx = faceHalfWidth * 1.05;
        double yaw = v.Yaw * Math.PI / 180, pitch = v.Pitch * Math.PI / 180, roll = v.Roll * Math.PI / 180;
        _cy = Math.Cos(yaw); _sy = Math.Sin(yaw);
        _cp = Math.Cos(pitch); _sp = Math.Sin(pitch);
        _cr = Math.Cos(roll); _sr = Math.Sin(roll);
        double rot = v.CropRotation * Math.PI / 180;
        _cropScale = v.CropScale; _cropCos = Math.Cos(rot); _cropSin = Math.Sin(rot);
        _cropShiftX = v.CropShiftX; _cropShiftY = v.CropShiftY;
        
        var eyes = Rotate3D(0, 0, 0);
        _offsetX = -Recentre * eyes.X;
        _offsetY = -Recentre * eyes.Y;
    }

    /// <summary>The canvas position of face-local point (x, y) with extra depth <paramref name="dz"/> towards the camera.</summary>
    public Point2d Map(double x, double y, double dz = 0)
    {
        var p = Rotate3D(x, y, dz);
        double px = p.X + _offsetX, py = p.Y + _offsetY;
        double rx = px * _cr - py * _sr, ry = px * _sr + py * _cr;
        double cx = EyeLineX + rx - 0.5, cy = EyeLineY + ry - 0.5;
        return new Point2d(
            0.5 + _cropScale * (cx * _cropCos - cy * _cropSin) + _cropShiftX,
            0.5 + _cropScale * (cx * _cropSin + cy * _cropCos) + _cropShiftY);
    }

    public List<Point2d> Map(IEnumerable<Point2d> points, double dz = 0) => points.Select(p => Map(p.X, p.Y, dz)).ToList();

    private Point2d Rotate3D(double x, double y, double dz)
    {
        double ny = (y - DepthCentreY) / DepthRadiusY, nx = x / _rx;
        double z = DepthRadiusZ * Math.Sqrt(Math.Max(0, 1 - nx * nx - ny * ny)) + dz;
        double x1 = x * _cy + z * _sy;
        double z1 = -x * _sy + z * _cy;
        double y1 = y * _cp - z1 * _sp;
        return new Point2d(x1, y1);
    }
}
