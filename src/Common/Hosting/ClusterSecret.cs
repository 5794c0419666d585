
namespace FaceCluster.Common.Hosting;

/// <summary>The cluster's shared secret as a file (RUNDIR/cluster.secret, or a copy given with --secret-file): what every node of a run needs.</summary>
public static class ClusterSecret
{
    /// <summary>RUNDIR/cluster.secret.</summary>
    public const string FileName = "cluster.secret";

    /// <summary>Reads a secret file: its trimmed content is the secret (at least 16 characters).</summary>
    public static byte[] Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"--secret-file {path}: {e.Message}");
        }
        if (text.Length < 16) throw new FaceClusterException($"--secret-file {path}: the secret must be at least 16 characters");
        return System.Text.Encoding.UTF8.GetBytes(text);
    }
}
