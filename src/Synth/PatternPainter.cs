using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>Non-face images: colour noise, stripes, checkerboards and blotches. Also the fill of textured occluders.</summary>
internal static class PatternPainter
{
    /// <summary>Paints one random pattern over the whole canvas and says which.</summary>
    public static string Paint(Mat canvas, Random rng, bool allowNoise = true)
    {
        int variant = allowNoise ? rng.Next(4) : 1 + rng.Next(3);
        switch (variant)
        {
            case 0:
                Noise(canvas, rng);
                return "colour noise";
            case 1:
                return Stripes(canvas, rng);
            case 2:
                return Checker(canvas, rng);
            default:
                Blotches(canvas, rng);
                return "blotches";
        }
    }

    /// <summary>Uniform colour noise, smoothed a little at canvas resolution so it survives down-scaling as grain.</summary>
    public static void Noise(Mat canvas, Random rng)
    {
        int cell = Math.Max(1, canvas.Cols / rng.Next(24, 64));
        using var small = new Mat(Math.Max(2, canvas.Rows / cell), Math.Max(2, canvas.Cols / cell), MatType.CV_8UC3);
        rng.NextBytes(small.AsSpan<byte>());
        Cv2.Resize(small, canvas, new Size(canvas.Cols, canvas.Rows), 0, 0, InterpolationFlags.Nearest);
    }

    private static string Stripes(Mat canvas, Random rng)
    {
        var pen = new CanvasPen(canvas);
        var (a, b) = TwoColours(rng);
        canvas.SetTo(a);
        double angle = rng.Uniform(0, Math.PI);
        double period = rng.Uniform(0.05, 0.14), duty = rng.Uniform(0.35, 0.65);
        double nx = -Math.Sin(angle), ny = Math.Cos(angle);
        var stripes = new List<IReadOnlyList<Point2d>>();
        for (double k = -1.0; k <= 1.0; k += period)
            stripes.Add(Shapes.Rectangle(0.5 + nx * k, 0.5 + ny * k, 1.0, period * duty / 2, angle));
        pen.Fill(stripes, b);
        return $"stripes (period {period:0.00})";
    }

    private static string Checker(Mat canvas, Random rng)
    {
        var pen = new CanvasPen(canvas);
        var (a, b) = TwoColours(rng);
        canvas.SetTo(a);
        double cell = rng.Uniform(0.06, 0.15), angle = rng.Chance(0.5) ? 0 : rng.Uniform(-0.6, 0.6);
        var squares = new List<IReadOnlyList<Point2d>>();
        int n = (int)Math.Ceiling(0.8 / cell);
        for (int i = -n; i <= n; i++)
        for (int j = -n; j <= n; j++)
        {
            if (((i + j) & 1) != 0) continue;
            var centre = Shapes.Rotate(new Point2d(i * cell, j * cell), angle);
            squares.Add(Shapes.Rectangle(0.5 + centre.X, 0.5 + centre.Y, cell / 2, cell / 2, angle));
        }
        pen.Fill(squares, b);
        return $"checkerboard (cell {cell:0.00})";
    }

    private static void Blotches(Mat canvas, Random rng)
    {
        var pen = new CanvasPen(canvas);
        canvas.SetTo(RandomColour(rng));
        int count = rng.Next(40, 80);
        for (int i = 0; i < count; i++)
        {
            double r = rng.Uniform(0.02, 0.1);
            pen.Fill(Shapes.Ellipse(rng.NextDouble(), rng.NextDouble(), r, r * rng.Uniform(0.4, 1.0), rng.Uniform(0, Math.PI), 24), RandomColour(rng));
        }
    }

    private static (Scalar A, Scalar B) TwoColours(Random rng)
    {
        var a = RandomColour(rng);
        Scalar b;
        do b = RandomColour(rng);
        while (Math.Abs(a.Val0 + a.Val1 + a.Val2 - b.Val0 - b.Val1 - b.Val2) < 150);
        return (a, b);
    }

    private static Scalar RandomColour(Random rng) => new(rng.Next(256), rng.Next(256), rng.Next(256));
}
