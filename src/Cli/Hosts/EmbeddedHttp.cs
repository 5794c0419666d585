using Akka.Hosting;
using FaceCluster.Common.Hosting;
using FaceCluster.Coordinator.ControlPlane;
using FaceCluster.Coordinator.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FaceCluster.Cli.Hosts;

/// <summary>`facecluster train --http HOST:PORT`: the coordinator's HTTP API beside an embedded run (the same server as `facecluster coordinator`).</summary>
public static class EmbeddedHttp
{
    /// <summary>Starts the server for a started Akka host (<paramref name="services"/>) and tells <paramref name="display"/> its URL and token; null when <paramref name="hostPort"/> is null.</summary>
    public static async Task<CoordinatorHttpServer?> StartAsync(string? hostPort, RunFolder folder, ManifestLoadResult scan, byte[] secret,
        IServiceProvider services, ILoggerFactory loggerFactory, ICoordinatorObserver display, CancellationToken cancellationToken)
    {
        if (hostPort == null) return null;
        var (host, port) = ClusterNodeOptions.ParseHostPort(hostPort, "--http", allowZeroPort: true);
        string token = ApiToken.Create(folder.TokenPath);
        var options = new CoordinatorHttpOptions(host, port, scan.Manifest, await File.ReadAllBytesAsync(scan.ManifestPath, cancellationToken).ConfigureAwait(false), token, secret)
        {
            PreviewsDir = Path.Combine(folder.Root, RunPreviews.FolderName),
        };
        var coordinator = services.GetRequiredService<ActorRegistry>().Get<CoordinatorProxyKey>();
        var server = await CoordinatorHttpServer.StartAsync(options, coordinator, loggerFactory, cancellationToken).ConfigureAwait(false);
        display.Message($"HTTP API: {server.Url} (its token is in {folder.TokenPath}; open the dashboard once as {server.Url}/?token=<its content>)");
        return server;
    }
}
