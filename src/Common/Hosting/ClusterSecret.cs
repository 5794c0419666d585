
namespace FaceCluster.Common.Hosting;

/// <summary>The cluster's shared secret as a file (RUNDIR/cluster.secret, or a copy given with --secret-file): what every node of a run needs.</summary>
public static class ClusterSecret
{
    /// <summary>RUNDIR/cluster.secret.</summary>
    public const string FileName = "cluster.secret";

    /// <summary>Placeholders shipped in examples: a secret that contains one is no secret.</summary>
    private static readonly string[] Placeholders = ["replace-me", "change-me", "changeme", "placeholder", "your-secret", "example-secret"];

    /// <summary>
    /// Reads a secret file: its trimmed content is the secret (at least 16 characters). Refused, saying why: a file
    /// others may read or anyone but its owner may write (group read is allowed, for deployments that share a group
    /// such as Kubernetes' fsGroup), and a secret that is a known placeholder.
    /// </summary>
    public static byte[] Read(string path)
    {
        string text;
        try
        {
            CheckPermissions(path);
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"--secret-file {path}: {e.Message}");
        }
        if (text.Length < 16) throw new FaceClusterException($"--secret-file {path}: the secret must be at least 16 characters");
        if (Placeholders.FirstOrDefault(p => text.Contains(p, StringComparison.OrdinalIgnoreCase)) is { } placeholder)
            throw new FaceClusterException($"--secret-file {path}: the secret is a placeholder ('{placeholder}'); put random bytes in it, e.g. head -c 32 /dev/urandom | base64");
        return System.Text.Encoding.UTF8.GetBytes(text);
    }

    private const UnixFileMode Open = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.GroupWrite;

    private static void CheckPermissions(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        var file = new FileInfo(path);
        var target = file.LinkTarget != null ? file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file : file;
        if (!target.Exists) throw new FileNotFoundException($"no such file{(target != file ? $" ({target.FullName})" : "")}");
        var mode = target.UnixFileMode;
        if ((mode & Open) != 0)
            throw new FaceClusterException($"--secret-file {path}: the file is open to others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); " +
                                           $"a cluster secret must be readable by its owner (and at most its group) only: chmod 600 {path}");
    }
}
