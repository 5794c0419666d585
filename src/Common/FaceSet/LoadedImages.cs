namespace FaceCluster.Common.FaceSet;

/// <summary>Images read by <see cref="ImageFileLoader"/>: the paths that loaded, in order, and their pixels (N×3×S×S floats).</summary>
public sealed record LoadedImages(int ImageSize, string[] Paths, float[] Pixels, string[] Failures)
{
    public int Count => Paths.Length;
    public int FloatsPerImage => 3 * ImageSize * ImageSize;

    /// <summary>The pixels of images [start, start + count).</summary>
    public ReadOnlyMemory<float> Slice(int start, int count) => Pixels.AsMemory(start * FloatsPerImage, count * FloatsPerImage);
}
