using System.Security.Cryptography;
using FaceCluster.Common.Hosting;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Http;
using FaceCluster.Coordinator.Ledger.Store;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// A run folder: manifest, ledger, checkpoints (<see cref="FaceCluster.Common.Models.Checkpoints.CheckpointStore"/>), quarantine
/// (<see cref="FaceCluster.Coordinator.Ledger.Quarantine.QuarantineManager"/>), previews (<see cref="RunPreviews"/>) and the cluster's secret. One coordinator
/// owns it at a time: opening it takes an exclusive lock (flock), so a second coordinator on the same folder
/// refuses with a message that names the first.
/// </summary>
public sealed class RunFolder : IDisposable
{
    private FileStream? _lock;

    private RunFolder(string root) => Root = root;

    public string Root { get; }
    // Each file's name is its owner's: the manifest's store, the ledger's store, the secret, the HTTP token.
    public string ManifestPath => Path.Combine(Root, ManifestStore.FileName);
    public string LedgerPath => Path.Combine(Root, LedgerStore.FileName);
    public string SecretPath => Path.Combine(Root, ClusterSecret.FileName);
    public string TokenPath => Path.Combine(Root, ApiToken.FileName);
    private string LockPath => Path.Combine(Root, ".lock");
    private string OwnerPath => Path.Combine(Root, ".lock.owner");

    /// <summary>Creates the folder if needed and takes its lock.</summary>
    public static RunFolder OpenExclusive(string path, string role = "coordinator")
    {
        string root = Path.GetFullPath(path);
        try { Directory.CreateDirectory(root); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"cannot create the run folder {root}: {e.Message}");
        }
        var folder = new RunFolder(root);
        try
        {
            folder._lock = new FileStream(folder.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string owner = "another process";
            try { owner = File.ReadAllText(folder.OwnerPath).Trim(); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new FaceClusterException($"the run folder {root} is in use by {owner}; stop it first (one coordinator per run folder)", ExitCodes.Locked);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new FaceClusterException($"cannot lock the run folder {root}: {e.Message}");
        }
        try { File.WriteAllText(folder.OwnerPath, $"{role} pid {Environment.ProcessId} on {Environment.MachineName} since {DateTime.UtcNow:u}"); }
        catch (IOException) { }
        return folder;
    }

    /// <summary>An existing run folder, read-only and without the lock (queries of a stopped or running run).</summary>
    public static RunFolder OpenShared(string path)
    {
        string root = Path.GetFullPath(path);
        if (!Directory.Exists(root)) throw new FaceClusterException($"no run folder at {root}");
        return new RunFolder(root);
    }

    /// <summary>
    /// The cluster's shared secret: read from <paramref name="secretFile"/> when given, else from the run folder,
    /// else generated into the run folder (mode 600). Workers on other hosts need the same file (--secret-file).
    /// </summary>
    public byte[] LoadOrCreateSecret(string? secretFile)
    {
        if (secretFile != null) return ClusterSecret.Read(secretFile);
        if (File.Exists(SecretPath)) return ClusterSecret.Read(SecretPath);
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        DurableFiles.WriteAllText(SecretPath, secret + "\n", privateFile: true);
        return System.Text.Encoding.UTF8.GetBytes(secret);
    }

    public void Dispose()
    {
        if (_lock == null) return;
        try { File.Delete(OwnerPath); } catch (IOException) { }
        _lock.Dispose();
        _lock = null;
    }
}
