using OpenCvSharp;

namespace FaceCluster.Common.FaceSet.FaceCheck;

/// <summary>
/// A structural face prior from a real detector, independent of the model being trained: OpenCV's Haar cascades
/// (Debian's opencv-data) look for a frontal face (the default and alt2 cascades) or a face in profile (both ways) in
/// the image, enlarged to at least 128 px and with a quarter of its size added on every side (a tight crop gives the
/// cascades no context otherwise). A misaligned, occluded or absent face is usually not found where the set's faces
/// are; a turned head often is not found either, which is why this prior never condemns a face on its own.
/// Not thread-safe: one per thread.
/// </summary>
public sealed class FaceStructureChecker : IDisposable
{
    public const string DefaultCascadeDir = "/usr/share/opencv4/haarcascades";
    private static readonly string[] Files = ["haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml", "haarcascade_profileface.xml"];
    private readonly CascadeClassifier _frontal, _frontalAlt, _profile;

    private FaceStructureChecker(CascadeClassifier frontal, CascadeClassifier frontalAlt, CascadeClassifier profile)
    {
        _frontal = frontal;
        _frontalAlt = frontalAlt;
        _profile = profile;
    }

    /// <summary>True when every cascade file is in <paramref name="cascadeDir"/>.</summary>
    public static bool Available(string cascadeDir = DefaultCascadeDir) => Files.All(f => File.Exists(Path.Combine(cascadeDir, f)));

    /// <summary>The checker, or null (with the reason) when a cascade is missing or does not load.</summary>
    public static FaceStructureChecker? TryCreate(string cascadeDir, out string? whyNot)
    {
        var loaded = new List<CascadeClassifier>();
        foreach (string file in Files)
        {
            string path = Path.Combine(cascadeDir, file);
            if (!File.Exists(path))
            {
                foreach (var c in loaded) c.Dispose();
                whyNot = $"no Haar cascade at {path} (Debian: apt-get install opencv-data)";
                return null;
            }
            var cascade = new CascadeClassifier(path);
            if (cascade.Empty())
            {
                cascade.Dispose();
                foreach (var c in loaded) c.Dispose();
                whyNot = $"{path}: OpenCV could not load this Haar cascade";
                return null;
            }
            loaded.Add(cascade);
        }
        whyNot = null;
        return new FaceStructureChecker(loaded[0], loaded[1], loaded[2]);
    }

    /// <summary>Checks one encoded image; an image OpenCV cannot decode has no face.</summary>
    public FaceCheckResult Check(byte[] encoded)
    {
        using var grey = Cv2.ImDecode(encoded, ImreadModes.Grayscale);
        return grey.Empty() ? FaceCheckResult.None : Check(grey);
    }

    /// <summary>Checks one greyscale image.</summary>
    public FaceCheckResult Check(Mat grey)
    {
        double scale = Math.Max(1.0, 128.0 / Math.Max(1, Math.Min(grey.Cols, grey.Rows)));
        using var big = new Mat();
        Cv2.Resize(grey, big, new Size((int)Math.Round(grey.Cols * scale), (int)Math.Round(grey.Rows * scale)), 0, 0, InterpolationFlags.Linear);
        Cv2.EqualizeHist(big, big);
        int px = big.Cols / 4, py = big.Rows / 4;
        using var padded = new Mat();
        Cv2.CopyMakeBorder(big, padded, py, py, px, px, BorderTypes.Replicate);
        var min = new Size(24, 24);
        var frontal = _frontal.DetectMultiScale(padded, 1.1, 3, HaarDetectionTypes.ScaleImage, min);
        if (frontal.Length > 0)
        {
            var b = frontal.MaxBy(r => r.Width * r.Height);
            return new FaceCheckResult(true, (float)((b.X - px + b.Width / 2.0) / big.Cols), (float)((b.Y - py + b.Height / 2.0) / big.Rows), (float)((double)b.Width / big.Cols));
        }
        if (_frontalAlt.DetectMultiScale(padded, 1.1, 3, HaarDetectionTypes.ScaleImage, min).Length > 0
            || _profile.DetectMultiScale(padded, 1.1, 3, HaarDetectionTypes.ScaleImage, min).Length > 0)
            return new FaceCheckResult(true, float.NaN, float.NaN, float.NaN);
        using var mirrored = new Mat();
        Cv2.Flip(padded, mirrored, FlipMode.Y);
        return _profile.DetectMultiScale(mirrored, 1.1, 3, HaarDetectionTypes.ScaleImage, min).Length > 0
            ? new FaceCheckResult(true, float.NaN, float.NaN, float.NaN)
            : FaceCheckResult.None;
    }

    public void Dispose()
    {
        _frontal.Dispose();
        _frontalAlt.Dispose();
        _profile.Dispose();
    }
}
