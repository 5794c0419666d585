using OpenCvSharp;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Augments one face the faceswap way. From a size×size BGR image it makes the TARGET: a random affine
/// transform (rotation, scale, shift, horizontal flip in one warp), then colour jitter (contrast and
/// brightness, then hue and saturation in HSV). The warped INPUT is the target pushed through faceswap's
/// random warp: a grid of control points (5×5 by default) spanning the image is displaced with Gaussian
/// noise, interpolated to a dense map and applied with remap, so the network learns to undo the warp.
/// The same seed always gives the same result. Thread-safe: one instance can serve many threads.
/// </summary>
public sealed class FaceAugmenter : IDisposable
{
    private readonly Mat _interp;   // size × grid: bilinear weights, grid points on the first and last pixel
    private readonly Mat _baseX;    // size × size: x
    private readonly Mat _baseY;    // size × size: y

    public FaceAugmenter(int imageSize, AugmentOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 2);
        options.Validate();
        ImageSize = imageSize;
        Options = options;
        int s = imageSize, g = options.WarpGridPoints;
        var weights = new float[s * g];
        for (int x = 0; x < s; x++)
        {
            double u = x * (g - 1) / (double)(s - 1);
            int i0 = Math.Min((int)Math.Floor(u), g - 2);
            double f = u - i0;
            weights[x * g + i0] = (float)(1 - f);
            weights[x * g + i0 + 1] = (float)f;
        }
        _interp = new Mat(s, g, MatType.CV_32FC1);
        _interp.SetArray(weights);
        var row = new float[s];
        for (int x = 0; x < s; x++) row[x] = x;
        using var rowMat = new Mat(1, s, MatType.CV_32FC1);
        rowMat.SetArray(row);
        _baseX = new Mat();
        Cv2.Repeat(rowMat, s, 1, _baseX);
        _baseY = _baseX.T().ToMat();
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
        if (angle == 0 && scale == 1 && shiftX == 0 && shiftY == 0 && !flip)
            source.CopyTo(target);
        else
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
            Cv2.WarpAffine(source, target, m, new Size(s, s), InterpolationFlags.Linear, BorderTypes.Reflect101);
        }

        // Colour: contrast about mid-grey and brightness in one pass, then hue/saturation through a LUT in HSV.
        if (contrast != 1 || brightness != 0)
            target.ConvertTo(target, MatType.CV_8UC3, contrast, 127.5 * (1 - contrast) + brightness);
        int hueSteps = (int)Math.Round(hue / 2); // OpenCV 8-bit hue: 0..179, 2 degrees a step
        if (hueSteps != 0 || saturation != 1)
        {
            using var hsv = new Mat();
            using var lut = HsvLut(hueSteps, saturation);
            Cv2.CvtColor(target, hsv, ColorConversionCodes.BGR2HSV);
            Cv2.LUT(hsv, lut, hsv);
            Cv2.CvtColor(hsv, target, ColorConversionCodes.HSV2BGR);
        }

        if (warpedInput is null) return;
        if (!o.RandomWarp || o.WarpStrength == 0)
        {
            target.CopyTo(warpedInput);
            return;
        }
        int g = o.WarpGridPoints;
        double sigma = o.WarpStrength * s;
        var noise = new float[g * g];
        using var mapX = new Mat();
        using var mapY = new Mat();
        using var grid = new Mat(g, g, MatType.CV_32FC1);
        using var half = new Mat();
        using var dense = new Mat();
        using var none = new Mat();
        foreach (var (map, baseMap) in new[] { (mapX, _baseX), (mapY, _baseY) })
        {
            for (int i = 0; i < noise.Length; i++) noise[i] = (float)(rng.NextGaussian() * sigma);
            grid.SetArray(noise);
            // dense = W · grid · Wᵀ: bilinear interpolation of the displaced grid over every pixel.
            Cv2.Gemm(_interp, grid, 1, none, 0, half);
            Cv2.Gemm(half, _interp, 1, none, 0, dense, GemmFlags.B_T);
            Cv2.Add(baseMap, dense, map);
        }
        Cv2.Remap(target, warpedInput, mapX, mapY, InterpolationFlags.Linear, BorderTypes.Replicate);
    }

    private static Mat HsvLut(int hueSteps, double saturation)
    {
        var table = new Vec3b[256];
        for (int v = 0; v < 256; v++)
        {
            table[v] = new Vec3b(
                (byte)(v < 180 ? ((v + hueSteps) % 180 + 180) % 180 : v),
                (byte)Math.Clamp(Math.Round(v * saturation), 0, 255),
                (byte)v);
        }
        var lut = new Mat(1, 256, MatType.CV_8UC3);
        lut.SetArray(table);
        return lut;
    }

    public void Dispose()
    {
        _interp.Dispose();
        _baseX.Dispose();
        _baseY.Dispose();
    }
}
