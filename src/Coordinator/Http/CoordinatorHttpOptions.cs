
namespace FaceCluster.Coordinator.Http;

/// <summary>What the coordinator's HTTP server needs.</summary>
/// <param name="Host">Address to bind: an IP address, "localhost", or "0.0.0.0" / "::" for every interface.</param>
/// <param name="Port">Port to bind; 0 picks a free one (see <see cref="CoordinatorHttpServer.Url"/>).</param>
/// <param name="ManifestJson">RUNDIR/manifest.json as saved (served at GET /api/manifest).</param>
/// <param name="Token">Bearer token of the mutating endpoints.</param>
/// <param name="Secret">The cluster secret (POST /api/cluster/secret-check proves a worker has the same one).</param>
/// <param name="PublicHost">Host name put into <see cref="CoordinatorHttpServer.Url"/>; default the bound address.</param>
public sealed record CoordinatorHttpOptions(string Host, int Port, FaceManifest Manifest, byte[] ManifestJson, string Token, byte[] Secret, string? PublicHost = null)
{
    /// <summary>HTTPS with this certificate (--tls-cert); null: plain HTTP. The URL the workers get says which.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCertificate { get; init; }

    /// <summary>RUNDIR/previews, served at /api/previews; null: none.</summary>
    public string? PreviewsDir { get; init; }

    public const int DefaultPort = 5080;
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
