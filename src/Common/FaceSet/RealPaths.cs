namespace FaceCluster.Common.FaceSet;

/// <summary>Resolves every symbolic link in a path (like realpath(3)), portably.</summary>
public static class RealPaths
{
    private const int MaxLinks = 40;
    private static readonly char[] Separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];

    /// <summary>The absolute path with all links resolved. Components that do not exist are kept as they are.
    /// Throws <see cref="IOException"/> after more than 40 links (a loop).</summary>
    public static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full)!;
        var pending = new LinkedList<string>(full[root.Length..].Split(Separators, StringSplitOptions.RemoveEmptyEntries));
        string current = root;
        int links = 0;
        while (pending.First is { } node)
        {
            string part = node.Value;
            pending.RemoveFirst();
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }
            string next = Path.Join(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"too many levels of symbolic links resolving {path}");
            string targetFull = Path.IsPathRooted(target) ? target : Path.Join(current, target);
            string targetRoot = Path.GetPathRoot(targetFull)!;
            var parts = targetFull[targetRoot.Length..].Split(Separators, StringSplitOptions.RemoveEmptyEntries);
            for (int i = parts.Length - 1; i >= 0; i--) pending.AddFirst(parts[i]);
            current = targetRoot;
        }
        return current;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or lies inside it (both resolved).</summary>
    public static bool IsSameOrInside(string path, string folder)
    {
        string p = Path.TrimEndingDirectorySeparator(Resolve(path));
        string f = Path.TrimEndingDirectorySeparator(Resolve(folder));
        return p == f || p.StartsWith(f + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
