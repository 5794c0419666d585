using OpenCvSharp;

namespace FaceCluster.Tests.Support;

/// <summary>Grey-level statistics of one image. Detail is the grey image minus its blur (lighting removed).</summary>
public sealed record SynthImageStats(double Mean, double Std, double FineDetail, Mat Detail)
{
    public static SynthImageStats Of(string path)
    {
        using var colour = Cv2.ImRead(path);
        using var grey8 = new Mat();
        Cv2.CvtColor(colour, grey8, ColorConversionCodes.BGR2GRAY);
        using var grey = new Mat();
        grey8.ConvertTo(grey, MatType.CV_32F);
        Cv2.MeanStdDev(grey, out var mean, out var std);
        using var laplacian = new Mat();
        Cv2.Laplacian(grey, laplacian, MatType.CV_32F);
        Cv2.MeanStdDev(laplacian, out _, out var lapStd);
        using var low = new Mat();
        Cv2.GaussianBlur(grey, low, new Size(0, 0), grey.Cols * 0.08);
        var detail = new Mat();
        Cv2.Subtract(grey, low, detail);
        // Fine detail relative to contrast, so a low-contrast pattern still counts as busy.
        return new SynthImageStats(mean.Val0, std.Val0, lapStd.Val0 / Math.Max(1, std.Val0), detail);
    }

    /// <summary>Pearson correlation of two float images inside a mask (0 when either is flat there).</summary>
    public static double Correlate(Mat a, Mat b, Mat mask)
    {
        Cv2.MeanStdDev(a, out var meanA, out var stdA, mask);
        Cv2.MeanStdDev(b, out var meanB, out var stdB, mask);
        if (stdA.Val0 < 1e-3 || stdB.Val0 < 1e-3) return 0;
        using var da = new Mat();
        using var db = new Mat();
        Cv2.Subtract(a, meanA, da);
        Cv2.Subtract(b, meanB, db);
        using var product = new Mat();
        Cv2.Multiply(da, db, product);
        return Cv2.Mean(product, mask).Val0 / (stdA.Val0 * stdB.Val0);
    }
}
