using FaceCluster.Common.Hosting;
using FaceCluster.Coordinator.Http;

namespace FaceCluster.Cli.Hosts;

/// <summary>Everything `facecluster coordinator` is told: the run (as for `train`) and where the node listens.</summary>
/// <param name="Bind">HOST:PORT for Akka.Remote (workers --join it); port 0 picks a free one.</param>
/// <param name="Http">HOST:PORT of the HTTP API; port 0 picks a free one.</param>
/// <param name="PublicHost">The name workers use to reach this machine (default: the bind address).</param>
/// <param name="MinWorkers">Workers needed before the first step.</param>
public sealed record ClusterCoordinatorOptions(TrainRunOptions Run, string Bind, string Http, string? PublicHost, int MinWorkers)
{
    public const string DefaultBind = "127.0.0.1:4053";
    public static readonly string DefaultHttp = "127.0.0.1:" + CoordinatorHttpOptions.DefaultPort;

    public void Validate()
    {
        Run.Validate();
        ClusterNodeOptions.ParseHostPort(Bind, "--bind", allowZeroPort: true);
        ClusterNodeOptions.ParseHostPort(Http, "--http", allowZeroPort: true);
        if (MinWorkers < 1) throw new FaceClusterException($"--min-workers must be at least 1, got {MinWorkers}", ExitCodes.UsageError);
        if (Run.GlobalBatch < MinWorkers)
            throw new FaceClusterException($"--batch {Run.GlobalBatch} is smaller than --min-workers {MinWorkers}: every worker needs at least one sample per step", ExitCodes.UsageError);
    }
}
