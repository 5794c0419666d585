using FaceCluster.Common.IO;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Reads image files into one planar float buffer the way a batch holds them (CHW, [0, 1], decoded and resized by
/// <see cref="FaceImageDecoder"/>), for evaluation and in-process training. Files that cannot be read or decoded are
/// left out and named in <see cref="LoadedImages.Failures"/>.
/// </summary>
public static class ImageFileLoader
{
    /// <summary>
    /// Image files (supported extensions, not hidden) under <paramref name="folder"/>, recursively, in ordinal order.
    /// Symbolic links are not followed (a link loop cannot trap the walk; a linked file is left out).
    /// </summary>
    public static IReadOnlyList<string> ListImages(string folder)
    {
        if (!Directory.Exists(folder)) throw new FaceClusterException($"the folder {folder} does not exist", ExitCodes.UsageError);
        return Directory.EnumerateFiles(Path.GetFullPath(folder), "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Where(p => FaceImageFiles.HasImageExtension(Path.GetFileName(p)) && !FaceImageFiles.IsHidden(Path.GetFileName(p)))
            .Order(StringComparer.Ordinal).ToList();
    }

    public static LoadedImages Load(IReadOnlyList<string> paths, int imageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 2);
        int per = 3 * imageSize * imageSize;
        var staged = new float[paths.Count * per];
        var ok = new bool[paths.Count];
        var errors = new string?[paths.Count];
        Parallel.For(0, paths.Count, i =>
        {
            try
            {
                using var mat = FaceImageDecoder.Decode(RegularFiles.ReadImage(paths[i]), imageSize, paths[i]);
                ImagePlanes.CopyToPlanes(mat, staged, i * per);
                ok[i] = true;
            }
            catch (Exception e) when (e is FaceImageException or IOException or UnauthorizedAccessException)
            {
                errors[i] = e is FaceImageException ? e.Message : $"{paths[i]}: {e.Message}";
            }
        });
        int count = ok.Count(x => x);
        var pixels = count == paths.Count ? staged : new float[count * per];
        var kept = new string[count];
        int n = 0;
        for (int i = 0; i < paths.Count; i++)
        {
            if (!ok[i]) continue;
            if (!ReferenceEquals(pixels, staged)) Array.Copy(staged, i * per, pixels, n * per, per);
            kept[n++] = paths[i];
        }
        return new LoadedImages(imageSize, kept, pixels, errors.Where(e => e != null).Select(e => e!).ToArray());
    }
}
