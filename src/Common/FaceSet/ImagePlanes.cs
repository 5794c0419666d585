using OpenCvSharp;

namespace FaceCluster.Common.FaceSet;

/// <summary>Bulk conversion of an 8-bit BGR image into planar float32 [0, 1] (the CHW layout of a batch).</summary>
public static class ImagePlanes
{
    /// <summary>
    /// Writes <paramref name="bgr"/> (CV_8UC3, H×W) into <paramref name="destination"/> from
    /// <paramref name="offset"/> as three planes B, G, R of H×W floats each, scaled by 1/255.
    /// One OpenCV conversion and one channel shuffle straight into the array; no per-pixel managed loop.
    /// </summary>
    public static unsafe void CopyToPlanes(Mat bgr, float[] destination, int offset)
    {
        if (bgr.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"expected CV_8UC3, got {bgr.Type()}", nameof(bgr));
        int rows = bgr.Rows, cols = bgr.Cols, plane = rows * cols;
        if (offset < 0 || (long)offset + 3L * plane > destination.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"3x{rows}x{cols} floats from {offset} do not fit in {destination.Length}");
        using var scaled = new Mat();
        bgr.ConvertTo(scaled, MatType.CV_32FC3, 1.0 / 255.0);
        fixed (float* p = destination)
        {
            using var b = Mat.FromPixelData(rows, cols, MatType.CV_32FC1, (IntPtr)(p + offset));
            using var g = Mat.FromPixelData(rows, cols, MatType.CV_32FC1, (IntPtr)(p + offset + plane));
            using var r = Mat.FromPixelData(rows, cols, MatType.CV_32FC1, (IntPtr)(p + offset + 2 * plane));
            Cv2.MixChannels([scaled], [b, g, r], [0, 0, 1, 1, 2, 2]);
        }
    }
}
