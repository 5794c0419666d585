using OpenCvSharp;

namespace FaceCluster.Common.FaceSet.Synth;

/// <summary>
/// Anti-aliased drawing on a square supersampled canvas, in coordinates that are fractions of the canvas side
/// (0..1, y down). Points are passed to OpenCV in fixed point (4 fractional bits) so shapes are placed with
/// sub-pixel precision.
/// </summary>
internal sealed class CanvasPen
{
    private const int Shift = 4;
    private const double One = 1 << Shift;

    public CanvasPen(Mat canvas)
    {
        if (canvas.Rows != canvas.Cols || (canvas.Type() != MatType.CV_8UC3 && canvas.Type() != MatType.CV_8UC1))
            throw new ArgumentException("the canvas must be a square 8-bit BGR or grey image", nameof(canvas));
        Canvas = canvas;
        Side = canvas.Cols;
    }

    public Mat Canvas { get; }

    /// <summary>Canvas side in pixels.</summary>
    public int Side { get; }

    public void Fill(IReadOnlyList<Point2d> polygon, Scalar colour)
    {
        if (polygon.Count < 3) return;
        Cv2.FillPoly(Canvas, [ToFixed(polygon, 0, 0)], colour, LineTypes.AntiAlias, Shift);
    }

    /// <summary>Fills each polygon in turn (one FillPoly call would cut holes where polygons overlap).</summary>
    public void Fill(IEnumerable<IReadOnlyList<Point2d>> polygons, Scalar colour)
    {
        foreach (var polygon in polygons) Fill(polygon, colour);
    }

    /// <summary>Fills the polygon mixed over what is already drawn: alpha 0 leaves the canvas, 1 paints solid.</summary>
    public void Blend(IReadOnlyList<Point2d> polygon, Scalar colour, double alpha)
    {
        if (polygon.Count < 3 || alpha <= 0) return;
        var rect = PixelBounds(polygon, 2);
        if (rect.Width <= 0 || rect.Height <= 0) return;
        using var roi = new Mat(Canvas, rect);
        using var painted = roi.Clone();
        Cv2.FillPoly(painted, [ToFixed(polygon, rect.X, rect.Y)], colour, LineTypes.AntiAlias, Shift);
        Cv2.AddWeighted(roi, 1 - alpha, painted, alpha, 0, roi);
    }

    /// <summary>An open (or closed) poly-line; <paramref name="thickness"/> is a fraction of the canvas side.</summary>
    public void Line(IReadOnlyList<Point2d> points, Scalar colour, double thickness, bool closed = false)
    {
        if (points.Count < 2) return;
        int px = Math.Max(1, (int)Math.Round(thickness * Side));
        Cv2.Polylines(Canvas, [ToFixed(points, 0, 0)], closed, colour, px, LineTypes.AntiAlias, Shift);
    }

    /// <summary>Pixel rectangle covering the polygon plus a margin, clipped to the canvas.</summary>
    public Rect PixelBounds(IReadOnlyList<Point2d> polygon, int margin)
    {
        double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
        foreach (var p in polygon)
        {
            minX = Math.Min(minX, p.X); maxX = Math.Max(maxX, p.X);
            minY = Math.Min(minY, p.Y); maxY = Math.Max(maxY, p.Y);
        }
        int x0 = Math.Clamp((int)Math.Floor(minX * Side) - margin, 0, Side);
        int y0 = Math.Clamp((int)Math.Floor(minY * Side) - margin, 0, Side);
        int x1 = Math.Clamp((int)Math.Ceiling(maxX * Side) + margin, 0, Side);
        int y1 = Math.Clamp((int)Math.Ceiling(maxY * Side) + margin, 0, Side);
        return new Rect(x0, y0, x1 - x0, y1 - y0);
    }

    private Point[] ToFixed(IReadOnlyList<Point2d> points, int offsetX, int offsetY)
    {
        var result = new Point[points.Count];
        double scale = Side * One;
        for (int i = 0; i < result.Length; i++)
        {
            // Clamp far-away points (a heavily scaled misaligned face) so fixed-point coordinates cannot overflow.
            double x = Math.Clamp(points[i].X, -4, 5) * scale - offsetX * One;
            double y = Math.Clamp(points[i].Y, -4, 5) * scale - offsetY * One;
            result[i] = new Point((int)Math.Round(x), (int)Math.Round(y));
        }
        return result;
    }
}
