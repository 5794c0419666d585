using FaceCluster.Common.IO;
namespace FaceCluster.Common.FaceSet;

/// <summary>Reads sample files from the face-set folder on this machine (read-only).</summary>
public sealed class LocalFaceImageSource : IFaceImageSource
{
    private readonly string _root;
    private readonly string _rootWithSeparator;

    public LocalFaceImageSource(string dataRoot)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataRoot));
        _rootWithSeparator = _root + Path.DirectorySeparatorChar;
    }

    public string DataRoot => _root;

    /// <summary>The full path of a sample. Throws <see cref="IOException"/> for a path that leaves the data root.</summary>
    public string PathOf(FaceSample sample)
    {
        string full = Path.GetFullPath(Path.Combine(_root, sample.RelativePath.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(_rootWithSeparator, StringComparison.Ordinal))
            throw new IOException($"sample {sample.Id} path '{sample.RelativePath}' leaves the face-set folder {_root}");
        return full;
    }

    /// <summary>The sample's bytes (at most one more than the scan saw: a grown file fails its hash check); never a pipe or device.</summary>
    public byte[] ReadBytes(FaceSample sample) => RegularFiles.ReadAtMost(PathOf(sample), sample.SizeBytes);
}
