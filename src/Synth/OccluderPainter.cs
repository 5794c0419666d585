using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>
/// Covers the eyes or the mouth with a solid block, a textured block, or a hand, sized so that it covers a
/// target share of the image (measured on the canvas after clipping).
/// </summary>
internal static class OccluderPainter
{
    public static string Paint(Mat canvas, FaceLandmarks landmarks, Random rng)
    {
        bool eyes = rng.Next(2) == 0;
        var target = eyes ? landmarks.EyeMidpoint : landmarks.Mouth;
        double area = rng.Uniform(0.2, 0.35);
        int variant = rng.Next(3);
        double cx = target.X + rng.Uniform(-0.03, 0.03), cy = target.Y + rng.Uniform(-0.02, 0.02);
        double aspect = rng.Uniform(1.6, 2.6), angle = rng.Uniform(-12, 12) * Math.PI / 180;
        int from = rng.Next(2) == 0 ? -1 : 1;
        double handAngle = rng.Uniform(-20, 20) * Math.PI / 180;

        List<IReadOnlyList<Point2d>> Shape(double scale) => variant == 2
            ? Hand(cx, cy, scale, from, handAngle)
            : [Shapes.Rectangle(cx, cy, scale * Math.Sqrt(aspect) / 2, scale / Math.Sqrt(aspect) / 2, angle)];

        using var mask = new Mat(canvas.Rows, canvas.Cols, MatType.CV_8UC1);
        var maskPen = new CanvasPen(mask);
        double s = Math.Sqrt(area);
        double covered = 0;
        for (int iteration = 0; iteration < 4; iteration++)
        {
            mask.SetTo(Scalar.All(0));
            maskPen.Fill(Shape(s), Scalar.All(255));
            covered = Cv2.CountNonZero(mask) / (double)(mask.Rows * mask.Cols);
            if (covered <= 0) break;
            if (Math.Abs(covered - area) < 0.01) break;
            s = Math.Clamp(s * Math.Sqrt(area / covered), 0.05, 2.0);
        }

        var pen = new CanvasPen(canvas);
        string what;
        switch (variant)
        {
            case 0:
                pen.Fill(Shape(s), new Scalar(rng.Next(256), rng.Next(256), rng.Next(256)));
                what = "solid block";
                break;
            case 1:
                using (var texture = new Mat(canvas.Rows, canvas.Cols, MatType.CV_8UC3))
                {
                    what = $"textured block ({PatternPainter.Paint(texture, rng, allowNoise: true)})";
                    texture.CopyTo(canvas, mask);
                }
                break;
            default:
                var skin = rng.Pick(IdentityTraitSampler.SkinTones).Colour;
                var shapes = Shape(s);
                pen.Fill(shapes, skin.ToScalar());
                foreach (var finger in shapes.Skip(1))
                    pen.Line(finger, skin.Scaled(0.72), 0.006, closed: true);
                what = "hand";
                break;
        }
        return $"{what} over the {(eyes ? "eyes" : "mouth")}, {covered * 100:0}% of the image";
    }

    /// <summary>A palm with four fingers reaching across (from the left or right) and a thumb; size ~ scale².</summary>
    private static List<IReadOnlyList<Point2d>> Hand(double cx, double cy, double scale, int from, double angle)
    {
        double u = scale * 0.95;
        Point2d P(double x, double y)
        {
            var r = Shapes.Rotate(new Point2d(x * from, y), angle);
            return new Point2d(cx + r.X, cy + r.Y);
        }
        // The palm sits on the side the hand comes from; fingers point across the face.
        var shapes = new List<IReadOnlyList<Point2d>>
        {
            Shapes.Ellipse(0, 0, 0.45 * u, 0.4 * u, 0, 36).Select(p => P(p.X - 0.35 * u, p.Y)).ToList(),
        };
        double[] lengths = [0.62, 0.72, 0.68, 0.55];
        for (int i = 0; i < 4; i++)
        {
            double y = (-0.3 + 0.2 * i) * u;
            shapes.Add(Shapes.Capsule(P(-0.1 * u, y), P((-0.1 + lengths[i]) * u, y * 1.1), 0.095 * u));
        }
        shapes.Add(Shapes.Capsule(P(-0.2 * u, 0.25 * u), P(0.15 * u, 0.5 * u), 0.1 * u));
        return shapes;
    }
}
