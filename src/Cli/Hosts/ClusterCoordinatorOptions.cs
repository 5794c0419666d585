using FaceCluster.Common.Hosting;
using FaceCluster.Coordinator.Http;

namespace FaceCluster.Cli.Hosts;

/// <summary>Everything `facecluster coordinator` is told: the run (as for `train`) and where the node listens.</summary>
/// <param name="Bind">HOST:PORT for Akka.Remote (workers --join it); port 0 picks a free one.</param>
/// <param name="Http">HOST:PORT of the HTTP API; port 0 picks a free one. Null: the --bind host and the default port, so that
/// workers that reach the cluster node also reach the faces (every route needs credentials).</param>
/// <param name="PublicHost">The name workers use to reach this machine (default: the bind address).</param>
/// <param name="MinWorkers">Workers needed before the first step.</param>
/// <param name="Insecure">Akka.Remote over plain TCP (loopback only); otherwise mutual TLS with the cluster's key.</param>
/// <param name="TlsCert">HTTPS for the HTTP API with this certificate and key (one PEM file, or a PKCS#12 file); null: plain HTTP.</param>
public sealed record ClusterCoordinatorOptions(TrainRunOptions Run, string Bind, string? Http, string? PublicHost, int MinWorkers, bool Insecure = false, string? TlsCert = null)
{
    public const string DefaultBind = "127.0.0.1:4053";

    /// <summary>The HTTP API's HOST:PORT: --http, or the --bind host with the default port.</summary>
    public string HttpAddress => Http ?? $"{ClusterNodeOptions.ParseHostPort(Bind, "--bind", allowZeroPort: true).Host}:{CoordinatorHttpOptions.DefaultPort}";

    public void Validate()
    {
        Run.Validate();
        var (bindHost, _) = ClusterNodeOptions.ParseHostPort(Bind, "--bind", allowZeroPort: true);
        if (Insecure) ClusterNodeOptions.RequireLoopbackForInsecure(bindHost, "--bind");
        ClusterNodeOptions.ParseHostPort(HttpAddress, "--http", allowZeroPort: true);
        if (MinWorkers < 1) throw new FaceClusterException($"--min-workers must be at least 1, got {MinWorkers}", ExitCodes.UsageError);
        if (Run.GlobalBatch < MinWorkers)
            throw new FaceClusterException($"--batch {Run.GlobalBatch} is smaller than --min-workers {MinWorkers}: every worker needs at least one sample per step", ExitCodes.UsageError);
    }
}
