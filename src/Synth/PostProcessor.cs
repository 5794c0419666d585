using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>Camera effects applied at the output size: directional lighting, colour cast, exposure, blur and sensor noise.</summary>
internal static class PostProcessor
{
    /// <summary>Std of a uniform 0..255 byte, to scale uniform noise to a requested sigma.</summary>
    private const double UniformByteStd = 73.61;

    /// <summary>Returns a new 8-bit image; <paramref name="exposureGain"/>/<paramref name="exposureOffset"/> blow the image out when set.</summary>
    public static Mat Finish(Mat image, FaceVariation v, Random rng, double exposureGain = 1, double exposureOffset = 0)
    {
        int side = image.Cols;
        using var work = new Mat();
        image.ConvertTo(work, MatType.CV_32FC3);

        using (var light = LightMap(side, v))
            Cv2.Multiply(work, light, work);
        if (exposureGain != 1 || exposureOffset != 0)
            work.ConvertTo(work, -1, exposureGain, exposureOffset);
        if (v.BlurSigma > 0.05)
            Cv2.GaussianBlur(work, work, new Size(0, 0), v.BlurSigma);
        if (v.NoiseSigma > 0)
        {
            using var bytes = new Mat(side, side, MatType.CV_8UC3);
            rng.NextBytes(bytes.AsSpan<byte>());
            using var noise = new Mat();
            double alpha = v.NoiseSigma / UniformByteStd;
            bytes.ConvertTo(noise, MatType.CV_32FC3, alpha, -127.5 * alpha);
            Cv2.Add(work, noise, work);
        }
        var result = new Mat();
        work.ConvertTo(result, MatType.CV_8UC3);
        return result;
    }

    /// <summary>brightness × (1 + strength × position along the light direction), per channel with the colour cast.</summary>
    private static Mat LightMap(int side, FaceVariation v)
    {
        double a = v.LightAngle * Math.PI / 180;
        var ramp = new float[side];
        for (int i = 0; i < side; i++) ramp[i] = (float)((i + 0.5) / side * 2 - 1);
        using var rowRamp = Mat.FromPixelData(1, side, MatType.CV_32FC1, ramp);
        using var colRamp = Mat.FromPixelData(side, 1, MatType.CV_32FC1, ramp);
        using var xs = new Mat();
        using var ys = new Mat();
        Cv2.Repeat(rowRamp, side, 1, xs);
        Cv2.Repeat(colRamp, 1, side, ys);
        using var map = new Mat();
        double k = v.Brightness * v.LightStrength;
        Cv2.AddWeighted(xs, k * Math.Cos(a), ys, k * Math.Sin(a), v.Brightness, map);
        Cv2.Max(map, 0.04, map);
        using var b = map * v.GainB;
        using var g = map * v.GainG;
        using var r = map * v.GainR;
        using var bm = b.ToMat();
        using var gm = g.ToMat();
        using var rm = r.ToMat();
        var merged = new Mat();
        Cv2.Merge([bm, gm, rm], merged);
        return merged;
    }
}
