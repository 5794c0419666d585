using OpenCvSharp;

namespace FaceCluster.Synth.Planting;

/// <summary>
/// Where the face is in a real image, so that an occluder covers the eyes, the nose or the mouth rather than the
/// background. With <see cref="FaceBoxMode.Haar"/> it is OpenCV's frontal-face cascade (Debian's opencv-data) on the
/// image; where the cascade finds nothing (a turned head, a tight crop) the caller uses the median box of the
/// identity's other images, and failing that <see cref="Centre"/>.
/// </summary>
public sealed class FaceBoxFinder : IDisposable
{
    private readonly CascadeClassifier? _cascade;

    private FaceBoxFinder(CascadeClassifier? cascade, string description)
    {
        _cascade = cascade;
        Description = description;
    }

    /// <summary>"haar" or "centre", as the truth records it.</summary>
    public string Description { get; }

    /// <summary>Opens the cascade for <see cref="FaceBoxMode.Haar"/>; throws naming the file when it is missing.</summary>
    public static FaceBoxFinder Create(FaceBoxMode mode, string cascadeDir)
    {
        if (mode == FaceBoxMode.Centre) return new FaceBoxFinder(null, "centre");
        string file = Path.Combine(cascadeDir, "haarcascade_frontalface_default.xml");
        if (!File.Exists(file))
            throw new FaceClusterException($"--face-box haar needs OpenCV's Haar cascade {file} (Debian: apt-get install opencv-data); or pass --face-box centre", ExitCodes.UserError);
        var cascade = new CascadeClassifier(file);
        if (cascade.Empty())
        {
            cascade.Dispose();
            throw new FaceClusterException($"{file}: OpenCV could not load this Haar cascade", ExitCodes.UserError);
        }
        return new FaceBoxFinder(cascade, "haar");
    }

    /// <summary>The largest face the cascade finds, or null (always null in centre mode).</summary>
    public Rect? Find(Mat bgr)
    {
        if (_cascade is null) return null;
        using var grey = new Mat();
        Cv2.CvtColor(bgr, grey, ColorConversionCodes.BGR2GRAY);
        Cv2.EqualizeHist(grey, grey);
        // A tight crop (the face fills the frame) gives the cascade no context: it searches the image with a
        // quarter of its size added on every side.
        int padX = grey.Cols / 4, padY = grey.Rows / 4;
        using var padded = new Mat();
        Cv2.CopyMakeBorder(grey, padded, padY, padY, padX, padX, BorderTypes.Replicate);
        int min = Math.Max(12, Math.Min(bgr.Cols, bgr.Rows) / 5);
        var faces = _cascade.DetectMultiScale(padded, 1.1, 3, HaarDetectionTypes.ScaleImage, new Size(min, min));
        if (faces.Length == 0) return null;
        var best = faces.MaxBy(r => r.Width * r.Height);
        return new Rect(best.X - padX, best.Y - padY, best.Width, best.Height);
    }

    /// <summary>A box in the middle of the image: 60% of its width, from 15% to 90% of its height.</summary>
    public static Rect Centre(Size size) =>
        new((int)(size.Width * 0.2), (int)(size.Height * 0.15), Math.Max(1, (int)(size.Width * 0.6)), Math.Max(1, (int)(size.Height * 0.75)));

    /// <summary>The median of boxes (each coordinate on its own), scaled to an image of another size.</summary>
    public static Rect? Median(IReadOnlyList<(Rect Box, Size Image)> found, Size target)
    {
        if (found.Count == 0) return null;
        double Med(Func<(Rect Box, Size Image), double> f)
        {
            var v = found.Select(f).Order().ToArray();
            return v[v.Length / 2];
        }
        double x = Med(b => (double)b.Box.X / b.Image.Width), y = Med(b => (double)b.Box.Y / b.Image.Height);
        double w = Med(b => (double)b.Box.Width / b.Image.Width), h = Med(b => (double)b.Box.Height / b.Image.Height);
        return new Rect((int)(x * target.Width), (int)(y * target.Height), Math.Max(1, (int)(w * target.Width)), Math.Max(1, (int)(h * target.Height)));
    }

    public void Dispose() => _cascade?.Dispose();
}
