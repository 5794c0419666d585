using OpenCvSharp;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Turns image file bytes into what a model eats: an 8-bit, 3-channel BGR square of the model's input size.
/// Grayscale becomes BGR; an alpha channel is composited onto black; 16-bit samples are scaled to 8 bits;
/// a non-square image is centre-cropped to a square, then resized with INTER_AREA when shrinking and
/// INTER_LINEAR when growing.
/// </summary>
public static class FaceImageDecoder
{
    /// <summary>
    /// Decodes <paramref name="data"/> into a new size×size CV_8UC3 BGR Mat (the caller disposes it).
    /// Throws <see cref="FaceImageException"/> naming <paramref name="name"/> for empty, truncated,
    /// undecodable or unsupported images.
    /// </summary>
    public static Mat Decode(ReadOnlySpan<byte> data, int size, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        name ??= "image";
        if (data.Length == 0) throw new FaceImageException(RejectReason.ZeroBytes, $"{name}: the file is empty");
        var structure = ImageStructure.Inspect(data);
        if (structure.Problem is { } problem) throw new FaceImageException(problem, $"{name}: {structure.Detail}");
        OpenCvLog.EnsureQuiet();
        var mode = ReducedJpegMode(structure, size);
        Mat decoded;
        try
        {
            decoded = Cv2.ImDecode(data, mode);
        }
        catch (OpenCVException e)
        {
            throw new FaceImageException(RejectReason.NotAnImage, $"{name}: {structure.Format} data cannot be decoded: {e.Message}", e);
        }
        using (decoded)
        {
            if (decoded.Empty())
                throw new FaceImageException(RejectReason.NotAnImage, $"{name}: {structure.Format} header, but the decoder cannot read the image data");
            if (decoded.Type() == MatType.CV_8UC3)
                return CropResizeSquare(decoded, size);
            using var bgr = ToBgr8(decoded, name);
            return CropResizeSquare(bgr, size);
        }
    }

    /// <summary>
    /// A JPEG much larger than the input size is decoded at 1/2, 1/4 or 1/8 scale by the JPEG decoder itself
    /// (DCT scaling, far cheaper than decoding in full), keeping the shorter side at or above the input size
    /// so the final resize still shrinks. Everything else is decoded unchanged (alpha, 16 bits, no EXIF rotation).
    /// </summary>
    private static ImreadModes ReducedJpegMode(ImageStructure structure, int size)
    {
        if (structure.Format != FaceImageFormat.Jpeg || structure.DeclaredWidth == 0 || structure.DeclaredHeight == 0)
            return ImreadModes.Unchanged;
        int side = Math.Min(structure.DeclaredWidth, structure.DeclaredHeight);
        if (side / 8 >= size) return ImreadModes.ReducedColor8 | ImreadModes.IgnoreOrientation;
        if (side / 4 >= size) return ImreadModes.ReducedColor4 | ImreadModes.IgnoreOrientation;
        if (side / 2 >= size) return ImreadModes.ReducedColor2 | ImreadModes.IgnoreOrientation;
        return ImreadModes.Unchanged;
    }

    /// <summary>
    /// A new CV_8UC3 BGR Mat from a decoded image with 1, 3 or 4 channels of 8- or 16-bit samples
    /// (alpha composited onto black). Throws <see cref="FaceImageException"/> for anything else.
    /// </summary>
    public static Mat ToBgr8(Mat image, string? name = null)
    {
        int channels = image.Channels();
        int depth = image.Depth();
        if (depth is not (MatType.CV_8U or MatType.CV_16U) || channels is not (1 or 3 or 4))
            throw new FaceImageException(RejectReason.UnsupportedDepth,
                $"{name ?? "image"}: OpenCV depth {depth} with {channels} channels; supported: 8- or 16-bit samples with 1, 3 or 4 channels");

        Mat eight = image;
        bool ownsEight = false;
        if (depth == MatType.CV_16U)
        {
            eight = new Mat();
            ownsEight = true;
            image.ConvertTo(eight, MatType.MakeType(MatType.CV_8U, channels), 1.0 / 257.0);
        }
        try
        {
            var result = new Mat();
            switch (channels)
            {
                case 1:
                    Cv2.CvtColor(eight, result, ColorConversionCodes.GRAY2BGR);
                    break;
                case 3:
                    eight.CopyTo(result);
                    break;
                default:
                    CompositeOnBlack(eight, result);
                    break;
            }
            return result;
        }
        finally
        {
            if (ownsEight) eight.Dispose();
        }
    }

    /// <summary>A new size×size Mat: the centred square of <paramref name="image"/>, resized (INTER_AREA
    /// when shrinking, INTER_LINEAR when growing, a copy when already that size).</summary>
    public static Mat CropResizeSquare(Mat image, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        int side = Math.Min(image.Width, image.Height);
        var square = new Rect((image.Width - side) / 2, (image.Height - side) / 2, side, side);
        using var roi = side == image.Width && side == image.Height ? null : new Mat(image, square);
        var source = roi ?? image;
        var result = new Mat();
        if (side == size)
            source.CopyTo(result);
        else
            Cv2.Resize(source, result, new Size(size, size), 0, 0, side > size ? InterpolationFlags.Area : InterpolationFlags.Linear);
        return result;
    }

    /// <summary>BGR × alpha / 255, in bulk: the colour planes times the alpha plane.</summary>
    private static void CompositeOnBlack(Mat bgra, Mat result)
    {
        var planes = Cv2.Split(bgra);
        try
        {
            using var bgr = new Mat();
            using var alpha3 = new Mat();
            Cv2.Merge([planes[0], planes[1], planes[2]], bgr);
            Cv2.Merge([planes[3], planes[3], planes[3]], alpha3);
            Cv2.Multiply(bgr, alpha3, result, 1.0 / 255.0);
        }
        finally
        {
            foreach (var p in planes) p.Dispose();
        }
    }
}
