using OpenCvSharp;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Augments one face the faceswap way. From a size×size BGR image it makes the TARGET: a random affine
/// transform (rotation, scale, shift, horizontal flip in one warp), then colour jitter (hue rotation about
/// the grey axis, saturation about the luma, contrast about mid-grey, brightness: one 3x4 colour matrix).
/// The warped INPUT is the target pushed through faceswap's random warp: a grid of control points (5×5 by
/// default) spanning the image is displaced with Gaussian noise, interpolated bilinearly to a dense map and
/// applied with remap, so the network learns to undo the warp.
/// The same seed always gives the same result. Thread-safe: one instance can serve many threads.
/// </summary>
public sealed class FaceAugmenter : IDisposable
{
    private readonly Mat _identityMap; // size × size CV_32FC2: (x, y) of every pixel

    public FaceAugmenter(int imageSize, AugmentOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 2);
        options.Validate();
        ImageSize = imageSize;
        Options = options;
        int s = imageSize;
        var xy = new Vec2f[s * s];
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++) xy[y * s + x] = new Vec2f(x, y);
        _identityMap = new Mat(s, s, MatType.CV_32FC2);
        _identityMap.SetArray(xy);
    }

    public int ImageSize { get; }

    public AugmentOptions Options { get; }

    /// <summary>The seed of the image at <paramref name="position"/> of batch <paramref name="batchIndex"/>:
    /// independent of which thread handles it or when.</summary>
    public static ulong SeedFor(long baseSeed, long batchIndex, int position)
        => AugmentRandom.Mix((ulong)baseSeed, (ulong)batchIndex, (ulong)position);

    /// <summary>
    /// Writes the augmented image into <paramref name="target"/> and, when <paramref name="warpedInput"/>
    /// is given, the randomly warped version of it there. <paramref name="source"/> must be a
    /// size×size CV_8UC3 image; it is not modified. Outputs are (re)allocated as size×size CV_8UC3.
    /// </summary>
    public void Apply(Mat source, ulong seed, Mat target, Mat? warpedInput = null)
    {
        int s = ImageSize;
        if (source.Type() != MatType.CV_8UC3 || source.Width != s || source.Height != s)
            throw new ArgumentException($"expected a {s}x{s} CV_8UC3 image, got {source.Width}x{source.Height} {source.Type()}", nameof(source));
        var o = Options;
        var rng = new AugmentRandom(seed);
        double angle = rng.Symmetric(o.RotationDegrees);
        double scale = 1 + rng.Symmetric(o.ScaleRange);
        double shiftX = rng.Symmetric(o.ShiftRange) * s;
        double shiftY = rng.Symmetric(o.ShiftRange) * s;
        bool flip = rng.NextDouble() < o.FlipProbability;
        double contrast = 1 + rng.Symmetric(o.ContrastRange);
        double brightness = rng.Symmetric(o.BrightnessRange) * 255;
        double hue = rng.Symmetric(o.HueShiftDegrees);
        double saturation = 1 + rng.Symmetric(o.SaturationRange);

        // Geometry: one affine warp (rotation and scale about the centre, shift, then the flip).
        using var warpedGeometry = new Mat();
        Mat geometric = source;
        if (angle != 0 || scale != 1 || shiftX != 0 || shiftY != 0 || flip)
        {
            double c = (s - 1) / 2.0;
            using var m = Cv2.GetRotationMatrix2D(new Point2f((float)c, (float)c), angle, scale);
            m.Set(0, 2, m.At<double>(0, 2) + shiftX);
            m.Set(1, 2, m.At<double>(1, 2) + shiftY);
            if (flip)
            {
                m.Set(0, 0, -m.At<double>(0, 0));
                m.Set(0, 1, -m.At<double>(0, 1));
                m.Set(0, 2, s - 1 - m.At<double>(0, 2));
            }
            Cv2.WarpAffine(source, warpedGeometry, m, new Size(s, s), InterpolationFlags.Linear, BorderTypes.Replicate);
            geometric = warpedGeometry;
        }

        // Colour: hue rotation, saturation, contrast about mid-grey and brightness are all linear in BGR,
        // so they are applied together as one 3x4 colour matrix (one pass, saturating to 8 bits).
        if (hue != 0 || saturation != 1 || contrast != 1 || brightness != 0)
        {
            using var colour = ColourMatrix(hue, saturation, contrast, brightness);
            Cv2.Transform(geometric, target, colour);
        }
        else
            geometric.CopyTo(target);

        if (warpedInput is null) return;
        if (!o.RandomWarp || o.WarpStrength == 0)
        {
            target.CopyTo(warpedInput);
            return;
        }
        // Faceswap's random warp: displace a grid × grid lattice of control points with Gaussian noise,
        // interpolate the displacements over every pixel (bilinear resize), add them to the identity map.
        int g = o.WarpGridPoints;
        double sigma = o.WarpStrength * s;
        var noise = new Vec2f[g * g];
        for (int i = 0; i < noise.Length; i++)
            noise[i] = new Vec2f((float)(rng.NextGaussian() * sigma), (float)(rng.NextGaussian() * sigma));
        using var grid = new Mat(g, g, MatType.CV_32FC2);
        grid.SetArray(noise);
        using var map = new Mat();
        Cv2.Resize(grid, map, new Size(s, s), 0, 0, InterpolationFlags.Linear);
        Cv2.Add(map, _identityMap, map);
        using var none = new Mat();
        Cv2.Remap(target, warpedInput, map, none, InterpolationFlags.Linear, BorderTypes.Replicate);
    }

    /// <summary>
    /// The 3x4 BGR colour matrix: rotate hue by <paramref name="hueDegrees"/> about the grey axis, scale
    /// saturation about the luma (Rec. 601 weights), then contrast about mid-grey and add brightness.
    /// </summary>
    internal static Mat ColourMatrix(double hueDegrees, double saturation, double contrast, double brightness)
    {
        double a = hueDegrees * Math.PI / 180, cos = Math.Cos(a), sin = Math.Sin(a);
        double t = (1 - cos) / 3, r = Math.Sqrt(1.0 / 3) * sin;
        // Rotation about the grey axis (1,1,1)/sqrt(3). In B, G, R order the turn runs the other way than in
        // R, G, B, which does not matter: the angle is drawn symmetrically.
        double[,] hue =
        {
            { cos + t, t - r, t + r },
            { t + r, cos + t, t - r },
            { t - r, t + r, cos + t },
        };
        double[] luma = [0.114, 0.587, 0.299];
        var m = new Mat(3, 4, MatType.CV_64FC1);
        for (int row = 0; row < 3; row++)
        {
            for (int col = 0; col < 3; col++)
            {
                // (saturation * I + (1 - saturation) * luma-rows) * hue
                double v = 0;
                for (int k = 0; k < 3; k++)
                {
                    double sat = (row == k ? saturation : 0) + (1 - saturation) * luma[k];
                    v += sat * hue[k, col];
                }
                m.Set(row, col, contrast * v);
            }
            m.Set(row, 3, 127.5 * (1 - contrast) + brightness);
        }
        return m;
    }

    public void Dispose() => _identityMap.Dispose();
}
