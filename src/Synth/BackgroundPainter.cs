using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>A plain or softly textured, muted background, different in every image.</summary>
internal static class BackgroundPainter
{
    public static void Paint(Mat canvas, Random rng)
    {
        double r = rng.Uniform(50, 215), g = rng.Uniform(50, 215), b = rng.Uniform(50, 215);
        double grey = (r + g + b) / 3, mute = rng.Uniform(0.45, 0.8);
        r += (grey - r) * mute; g += (grey - g) * mute; b += (grey - b) * mute;
        if (rng.Chance(0.3))
        {
            canvas.SetTo(new Scalar(b, g, r));
            return;
        }
        int cells = rng.Next(2, 5);
        double jitter = rng.Uniform(10, 30);
        using var coarse = new Mat(cells, cells, MatType.CV_8UC3);
        for (int y = 0; y < cells; y++)
        for (int x = 0; x < cells; x++)
        {
            double shade = rng.Uniform(-jitter, jitter);
            coarse.Set(y, x, new Vec3b(
                Byte(b + shade + rng.Uniform(-6, 6)), Byte(g + shade + rng.Uniform(-6, 6)), Byte(r + shade + rng.Uniform(-6, 6))));
        }
        Cv2.Resize(coarse, canvas, new Size(canvas.Cols, canvas.Rows), 0, 0, InterpolationFlags.Cubic);
    }

    private static byte Byte(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}
