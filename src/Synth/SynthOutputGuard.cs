
namespace FaceCluster.Synth;

/// <summary>
/// Makes the output location ready without ever losing data: refuses a non-empty DIR unless --force, and with
/// --force deletes only the files an earlier generation listed in DIR.truth.json — and nothing at all when
/// anything else is there.
/// </summary>
internal static class SynthOutputGuard
{
    /// <summary>Returns how many files of an earlier generation were deleted.</summary>
    public static int Prepare(string dataDir, string truthPath, string holdoutDir, bool wantHoldout, bool force, ILogger logger)
    {
        if (File.Exists(dataDir))
            throw new FaceClusterException($"--out {dataDir} is a file, not a folder");
        if (File.Exists(holdoutDir) && wantHoldout)
            throw new FaceClusterException($"{holdoutDir} is a file; the holdout images need that name for a folder");
        if (Directory.Exists(truthPath))
            throw new FaceClusterException($"{truthPath} is a folder; the truth file needs that name");

        SynthTruth? old = null;
        if (File.Exists(truthPath))
        {
            try { old = SynthTruth.Read(truthPath); }
            catch (FaceClusterException e)
            {
                throw new FaceClusterException($"{truthPath} exists but is not a synth truth file this build can read ({e.Message}); move it away or choose another --out", ExitCodes.UserError, e);
            }
        }
        bool dataBusy = HasEntries(dataDir);
        bool holdoutBusy = wantHoldout && HasEntries(holdoutDir);

        if (!force)
        {
            if (dataBusy)
                throw new FaceClusterException($"--out {dataDir} exists and is not empty; pass --force to replace a face set that synth or plant wrote there (only its own files are deleted)");
            if (holdoutBusy)
                throw new FaceClusterException($"{holdoutDir} exists and is not empty; pass --force to replace a holdout set that synth wrote there");
            if (old is not null)
                throw new FaceClusterException($"{truthPath} already exists from an earlier generation; pass --force to replace it");
            return 0;
        }

        if (old is null)
        {
            if (dataBusy)
                throw new FaceClusterException($"--out {dataDir} is not empty and there is no {truthPath} to tell which files synth or plant wrote; nothing was deleted: empty it or choose another --out");
            if (holdoutBusy)
                throw new FaceClusterException($"{holdoutDir} is not empty and there is no {truthPath} to tell which files synth or plant wrote; nothing was deleted");
            return 0;
        }

        // Check everything before deleting anything.
        // Identity folders and every folder above a listed file (`plant` keeps an identity's sub-folders).
        var identityDirs = old.Identities.Select(i => i.Name)
            .Concat(old.Files.Concat(old.Holdout).SelectMany(f => Ancestors(f.Path))).ToHashSet(StringComparer.Ordinal);
        var dataFiles = old.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var holdoutFiles = old.Holdout.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        RefuseForeign(dataDir, dataFiles, identityDirs, truthPath);
        if (wantHoldout || old.Holdout.Count > 0)
            RefuseForeign(holdoutDir, holdoutFiles, identityDirs, truthPath);

        int deleted = DeleteListed(dataDir, dataFiles, identityDirs) + DeleteListed(holdoutDir, holdoutFiles, identityDirs);
        if (old.Holdout.Count > 0 && !wantHoldout && Directory.Exists(holdoutDir) && !HasEntries(holdoutDir))
            Directory.Delete(holdoutDir);
        File.Delete(truthPath);
        logger.LogInformation("--force: deleted {Count} files of the earlier generation listed in {Truth}", deleted, truthPath);
        return deleted;
    }

    private static IEnumerable<string> Ancestors(string relative)
    {
        for (int slash = relative.LastIndexOf('/'); slash > 0; slash = relative.LastIndexOf('/', slash - 1))
            yield return relative[..slash];
    }

    private static bool HasEntries(string dir) => Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any();

    private static void RefuseForeign(string root, HashSet<string> files, HashSet<string> identityDirs, string truthPath)
    {
        if (!Directory.Exists(root)) return;
        var foreign = new List<string>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
        {
            string relative = Path.GetRelativePath(root, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
            bool ours = entry.Attributes.HasFlag(FileAttributes.ReparsePoint) ? false
                : entry is DirectoryInfo ? identityDirs.Contains(relative)
                : files.Contains(relative);
            if (!ours) foreign.Add(relative);
        }
        if (foreign.Count > 0)
            throw new FaceClusterException(
                $"{root} holds {foreign.Count} entr{(foreign.Count == 1 ? "y" : "ies")} that {truthPath} does not list (e.g. '{foreign[0]}'); " +
                "--force deletes only files synth or plant wrote, so nothing was deleted: move them away or choose another --out");
    }

    private static int DeleteListed(string root, HashSet<string> files, HashSet<string> identityDirs)
    {
        if (!Directory.Exists(root)) return 0;
        int deleted = 0;
        foreach (string relative in files)
        {
            string path = Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));
            if (!File.Exists(path)) continue;
            File.Delete(path);
            deleted++;
        }
        foreach (string name in identityDirs.OrderByDescending(d => d.Count(c => c == '/')))
        {
            string dir = Path.Combine(root, name);
            if (Directory.Exists(dir) && !HasEntries(dir)) Directory.Delete(dir);
        }
        return deleted;
    }
}
