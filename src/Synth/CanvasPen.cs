using OpenCvSharp;

namespace FaceCluster.Synth;

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

    /// <summary>
    /// Mixes <paramref name="colour"/> in through a soft-edged mask: the polygon (minus an optional hole) blurred
    /// by <paramref name="blur"/> (a fraction of the side), optionally kept inside <paramref name="clip"/>.
    /// Used for shading that must not have hard edges: cheeks, stubble, the rim of the face.
    /// </summary>
    public void SoftBlend(IReadOnlyList<Point2d> polygon, Scalar colour, double alpha, double blur,
                          IReadOnlyList<Point2d>? clip = null, IReadOnlyList<Point2d>? hole = null)
    {
        if (polygon.Count < 3 || alpha <= 0 || Canvas.Channels() != 3) return;
        double sigma = Math.Max(0.5, blur * Side);
        var rect = PixelBounds(polygon, (int)Math.Ceiling(3 * sigma) + 2);
        if (rect.Width <= 0 || rect.Height <= 0) return;
        using var mask8 = new Mat(rect.Height, rect.Width, MatType.CV_8UC1, Scalar.All(0));
        Cv2.FillPoly(mask8, [ToFixed(polygon, rect.X, rect.Y)], Scalar.All(255), LineTypes.AntiAlias, Shift);
        if (hole is { Count: >= 3 })
            Cv2.FillPoly(mask8, [ToFixed(hole, rect.X, rect.Y)], Scalar.All(0), LineTypes.AntiAlias, Shift);
        BlurMask(mask8, sigma);
        if (clip is { Count: >= 3 })
        {
            using var clip8 = new Mat(rect.Height, rect.Width, MatType.CV_8UC1, Scalar.All(0));
            Cv2.FillPoly(clip8, [ToFixed(clip, rect.X, rect.Y)], Scalar.All(255), LineTypes.AntiAlias, Shift);
            Cv2.Min(mask8, clip8, mask8);
        }
        using var weight = new Mat();
        mask8.ConvertTo(weight, MatType.CV_32FC1, alpha / 255.0);
        using var keep = new Mat();
        weight.ConvertTo(keep, MatType.CV_32FC1, -1, 1);
        using var roi = new Mat(Canvas, rect);
        using var paint = new Mat(rect.Height, rect.Width, MatType.CV_8UC3, colour);
        using var mixed = new Mat();
        Cv2.BlendLinear(roi, paint, keep, weight, mixed);
        mixed.CopyTo(roi);
    }

    /// <summary>A wide blur done at a reduced resolution (the mask is smooth anyway), so big canvases stay fast.</summary>
    private static void BlurMask(Mat mask, double sigma)
    {
        int factor = Math.Max(1, (int)(sigma / 2));
        if (factor == 1 || mask.Rows < 2 * factor || mask.Cols < 2 * factor)
        {
            Cv2.GaussianBlur(mask, mask, new Size(0, 0), sigma);
            return;
        }
        using var small = new Mat();
        Cv2.Resize(mask, small, new Size(Math.Max(1, mask.Cols / factor), Math.Max(1, mask.Rows / factor)), 0, 0, InterpolationFlags.Area);
        Cv2.GaussianBlur(small, small, new Size(0, 0), sigma / factor);
        Cv2.Resize(small, mask, new Size(mask.Cols, mask.Rows), 0, 0, InterpolationFlags.Linear);
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
