using FaceCluster.Common.Hosting;

namespace FaceCluster.Cli.Hosts;

/// <summary>Everything `facecluster worker` is told.</summary>
/// <param name="Join">The coordinator's --bind address, HOST:PORT.</param>
/// <param name="Workers">Worker actors on the CPU (one per device otherwise).</param>
/// <param name="Threads">libtorch threads per worker; 0: the cores divided among the workers.</param>
/// <param name="CacheDir">Downloaded faces go to CACHE/&lt;manifest hash&gt;/ (default ~/.cache/facecluster).</param>
/// <param name="Bind">Address this node listens on (default: the local address that reaches the coordinator).</param>
/// <param name="PublicHost">The name other nodes use to reach this one (default: the bind address).</param>
/// <param name="DataDir">This machine's copy of the face set; files that differ from the run's manifest are fetched.</param>
/// <param name="Id">The worker id (default: host name and process id); a restarted worker with the same id replaces its old self.</param>
/// <param name="CoordinatorWait">How long the worker waits, keeping its replica, for a coordinator that stopped or was lost to come back; zero: exit at once.</param>
/// <param name="Insecure">Akka.Remote over plain TCP (loopback only); otherwise mutual TLS with the cluster's key.</param>
/// <param name="TlsCa">PEM roots trusted for the coordinator's HTTPS certificate; null: the system's trust store.</param>
/// <param name="UpdateOn">Where the workers run their Adam update (--update-on): auto, host or device.</param>
/// <param name="Overlap">Reduce each gradient bucket while backward computes the next (--overlap auto|on|off).</param>
/// <param name="StayUp">Once the run is done, stay up (idle) until stopped instead of exiting (--stay-up).</param>
public sealed record ClusterWorkerOptions(
    string Join, DeviceSpec Device, int Workers, int Threads, string? CacheDir, string SecretFile,
    string? Bind, string? PublicHost, string? DataDir, string? Id, int MaxBatch, TimeSpan CoordinatorWait, bool Insecure = false, string? TlsCa = null, bool StayUp = false, string UpdateOn = "auto", string Overlap = "auto")
{
    public static readonly TimeSpan DefaultCoordinatorWait = TimeSpan.FromMinutes(10);

    public void Validate()
    {
        var (joinHost, _) = ClusterNodeOptions.ParseHostPort(Join, "--join");
        if (Insecure)
        {
            ClusterNodeOptions.RequireLoopbackForInsecure(joinHost, "--join");
            if (Bind != null) ClusterNodeOptions.RequireLoopbackForInsecure(Bind, "--bind");
        }
        if (Workers < 1) throw new FaceClusterException($"--workers must be at least 1, got {Workers}", ExitCodes.UsageError);
        if (Threads < 0) throw new FaceClusterException($"--threads must be 0 (automatic) or more, got {Threads}", ExitCodes.UsageError);
        if (CoordinatorWait < TimeSpan.Zero) throw new FaceClusterException($"--coordinator-wait must be 0 or more seconds, got {CoordinatorWait.TotalSeconds}", ExitCodes.UsageError);
        if (MaxBatch < 0) throw new FaceClusterException($"--max-batch must be 0 (device default) or more, got {MaxBatch}", ExitCodes.UsageError);
        if (Id is { } id && (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new FaceClusterException($"--id '{id}': use 1 to 64 letters, digits, '-', '_' or '.'", ExitCodes.UsageError);
    }
}
