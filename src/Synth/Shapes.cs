using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>Point lists for the primitive shapes the painters use (in whatever coordinates the caller works in).</summary>
internal static class Shapes
{
    /// <summary>Points on an ellipse from angle t0 to t1 (radians; 0 = +x, π/2 = +y, i.e. down).</summary>
    public static List<Point2d> Arc(double cx, double cy, double rx, double ry, double t0, double t1, int n)
    {
        var points = new List<Point2d>(n);
        for (int i = 0; i < n; i++)
        {
            double t = n == 1 ? t0 : t0 + (t1 - t0) * i / (n - 1);
            points.Add(new Point2d(cx + rx * Math.Cos(t), cy + ry * Math.Sin(t)));
        }
        return points;
    }

    /// <summary>Points on a superellipse (exponent 2 = ellipse, larger = boxier) from angle t0 to t1.</summary>
    public static List<Point2d> SuperArc(double cx, double cy, double rx, double ry, double exponent, double t0, double t1, int n)
    {
        var points = new List<Point2d>(n);
        double p = 2.0 / exponent;
        for (int i = 0; i < n; i++)
        {
            double t = n == 1 ? t0 : t0 + (t1 - t0) * i / (n - 1);
            double c = Math.Cos(t), s = Math.Sin(t);
            points.Add(new Point2d(cx + rx * Math.Sign(c) * Math.Pow(Math.Abs(c), p), cy + ry * Math.Sign(s) * Math.Pow(Math.Abs(s), p)));
        }
        return points;
    }

    /// <summary>A closed ellipse rotated by <paramref name="angle"/> radians.</summary>
    public static List<Point2d> Ellipse(double cx, double cy, double rx, double ry, double angle = 0, int n = 40)
    {
        var points = new List<Point2d>(n);
        double ca = Math.Cos(angle), sa = Math.Sin(angle);
        for (int i = 0; i < n; i++)
        {
            double t = 2 * Math.PI * i / n;
            double x = rx * Math.Cos(t), y = ry * Math.Sin(t);
            points.Add(new Point2d(cx + x * ca - y * sa, cy + x * sa + y * ca));
        }
        return points;
    }

    /// <summary>A closed superellipse |x/rx|^e + |y/ry|^e = 1 (e = 2 ellipse, larger e squarer).</summary>
    public static List<Point2d> SuperEllipse(double cx, double cy, double rx, double ry, double exponent, double angle = 0, int n = 48)
    {
        var points = new List<Point2d>(n);
        double ca = Math.Cos(angle), sa = Math.Sin(angle);
        double p = 2.0 / exponent;
        for (int i = 0; i < n; i++)
        {
            double t = 2 * Math.PI * i / n;
            double c = Math.Cos(t), s = Math.Sin(t);
            double x = rx * Math.Sign(c) * Math.Pow(Math.Abs(c), p), y = ry * Math.Sign(s) * Math.Pow(Math.Abs(s), p);
            points.Add(new Point2d(cx + x * ca - y * sa, cy + x * sa + y * ca));
        }
        return points;
    }

    /// <summary>A rectangle of the given centre, half sizes and rotation (radians).</summary>
    public static List<Point2d> Rectangle(double cx, double cy, double hx, double hy, double angle = 0)
    {
        double ca = Math.Cos(angle), sa = Math.Sin(angle);
        var corners = new (double X, double Y)[] { (-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy) };
        return corners.Select(c => new Point2d(cx + c.X * ca - c.Y * sa, cy + c.X * sa + c.Y * ca)).ToList();
    }

    /// <summary>A capsule (thick segment with round ends) as a polygon.</summary>
    public static List<Point2d> Capsule(Point2d a, Point2d b, double radius, int n = 12)
    {
        double angle = Math.Atan2(b.Y - a.Y, b.X - a.X);
        var points = new List<Point2d>(2 * n);
        points.AddRange(Arc(b.X, b.Y, radius, radius, angle - Math.PI / 2, angle + Math.PI / 2, n));
        points.AddRange(Arc(a.X, a.Y, radius, radius, angle + Math.PI / 2, angle + 3 * Math.PI / 2, n));
        return points;
    }

    /// <summary>Rotates a point about the origin.</summary>
    public static Point2d Rotate(Point2d p, double angle)
    {
        double c = Math.Cos(angle), s = Math.Sin(angle);
        return new Point2d(p.X * c - p.Y * s, p.X * s + p.Y * c);
    }
}
