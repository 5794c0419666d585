namespace FaceCluster.Common.FaceSet;

/// <summary>Which file names a face set uses: supported image extensions (any case), hidden names.</summary>
public static class FaceImageFiles
{
    /// <summary>Supported extensions, lower case, with the dot.</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".webp"];

    /// <summary>True when the file name ends in a supported image extension, in any case.</summary>
    public static bool HasImageExtension(string fileName)
    {
        var ext = Path.GetExtension(fileName);
        foreach (var supported in SupportedExtensions)
            if (ext.Equals(supported, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>Names starting with a dot are hidden and skipped silently.</summary>
    public static bool IsHidden(string name) => name.StartsWith('.');
}
