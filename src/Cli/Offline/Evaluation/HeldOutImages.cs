
namespace FaceCluster.Cli.Offline.Evaluation;

/// <summary>
/// The held-out images a verification runs on, with one identity per image: the validation samples of the run's
/// manifest when <c>--data</c> is the run's own face set (never trained on), otherwise every image of the folder
/// (one sub-folder per identity, e.g. the DIR.holdout folder `facecluster synth` writes).
/// </summary>
public sealed record HeldOutImages(string Source, string[] Paths, string[] Identities)
{
    public static HeldOutImages Find(string runDir, string dataDir)
    {
        if (!Directory.Exists(dataDir)) throw new FaceClusterException($"--data {dataDir}: the folder does not exist", ExitCodes.UsageError);
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir));
        var manifest = ManifestStore.TryLoad(ManifestStore.PathFor(runDir), out _);
        if (manifest != null && string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(manifest.DataRoot)), root, StringComparison.Ordinal))
        {
            var validation = manifest.ValidationSamples.ToArray();
            if (validation.Length == 0)
                throw new FaceClusterException($"the run's manifest holds no validation images of {root} (--val-fraction 0?); pass a folder of held-out images as --data");
            var source = new LocalFaceImageSource(manifest.DataRoot);
            return new HeldOutImages($"{validation.Length} validation images of the run's face set", validation.Select(source.PathOf).ToArray(),
                validation.Select(s => s.Identity).ToArray());
        }
        var paths = new List<string>();
        var identities = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            string identity = Path.GetFileName(dir);
            if (FaceImageFiles.IsHidden(identity)) continue;
            foreach (var file in ImageFileLoader.ListImages(dir)) { paths.Add(file); identities.Add(identity); }
        }
        if (paths.Count == 0) throw new FaceClusterException($"--data {root}: no images in identity sub-folders");
        return new HeldOutImages($"{paths.Count} images of {root}", paths.ToArray(), identities.ToArray());
    }
}
