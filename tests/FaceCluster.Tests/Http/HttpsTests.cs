using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Hosting;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Http;
using FaceCluster.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.Http;

/// <summary>
/// --tls-cert: the HTTP API over HTTPS with the operator's certificate; the advertised URL says https, and a worker that
/// trusts the certificate's CA (--tls-ca) fetches the manifest with its secret proof, while one that does not is refused.
/// </summary>
[Trait("Tier", "unit")]
public sealed class HttpsTests
{
    [Fact]
    public async Task The_API_serves_HTTPS_with_the_operator_s_certificate_and_workers_trust_it_through_their_CA_file()
    {
        using var temp = new ScratchFolder("fc-https");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 3);
        var scan = ManifestStore.LoadOrBuild(faces, temp.Combine("run"), ScanOptions.Default with { MinImages = 1 });
        byte[] secret = "0123456789abcdef0123456789abcdef"u8.ToArray();

        // The operator's certificate for 127.0.0.1 (self-signed: it is its own CA), in one PEM file with its key.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=coordinator.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        string certPem = temp.Combine("coordinator.pem"), caPem = temp.Combine("ca.pem");
        File.WriteAllText(certPem, self.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(caPem, self.ExportCertificatePem());
        File.WriteAllText(temp.Combine("nokey.pem"), self.ExportCertificatePem());
        var missingKey = Assert.Throws<FaceClusterException>(() => TlsFiles.LoadServerCertificate(temp.Combine("nokey.pem")));
        Assert.Contains("no private key", missingKey.Message);

        using var system = ActorSystem.Create("https-test");
        var options = new CoordinatorHttpOptions("127.0.0.1", 0, scan.Manifest, File.ReadAllBytes(scan.ManifestPath), "token-of-this-test", secret)
        {
            TlsCertificate = TlsFiles.LoadServerCertificate(certPem),
        };
        await using var server = await CoordinatorHttpServer.StartAsync(options, system.DeadLetters, NullLoggerFactory.Instance);
        Assert.StartsWith("https://127.0.0.1:", server.Url);

        using var worker = new HttpClient(new HttpSecretProof.Handler(secret, TlsFiles.LoadTrustedRoots(caPem)));
        var manifest = await worker.GetAsync(server.Url + "/api/manifest");
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);

        using var untrusting = new HttpClient(new HttpSecretProof.Handler(secret));
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(server.Url + "/api/manifest"));
        using var plain = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(server.Url.Replace("https://", "http://") + "/api/manifest"));
        await system.Terminate();
    }
}
