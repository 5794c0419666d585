using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FaceCluster.Common.Hosting;

/// <summary>
/// The cluster's TLS identity for Akka.Remote, derived from the cluster secret: a P-256 key whose private scalar is
/// HKDF-SHA256(secret), in a self-signed certificate. Every node of a run derives the same key from the one file it
/// already has (cluster.secret), so mutual TLS needs nothing more to copy; a peer is accepted only if its
/// certificate carries that public key (pinned, no CA, no hostname). A node without a certificate cannot complete
/// the handshake, and one with a certificate of another run (another secret) presents another key and is refused.
/// </summary>
public sealed class ClusterTls : IDisposable
{
    private static readonly byte[] KeyInfo = "facecluster akka.remote tls p-256 v1"u8.ToArray();

    /// <summary>This node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    private readonly byte[] _pin;

    /// <summary>SHA-256 of the pinned SubjectPublicKeyInfo, hex.</summary>
    public string PublicKeyPin => Convert.ToHexString(_pin);

    private ClusterTls(X509Certificate2 certificate)
    {
        Certificate = certificate;
        _pin = Pin(certificate);
    }

    /// <summary>The TLS identity of the cluster whose secret is <paramref name="secret"/>.</summary>
    public static ClusterTls FromSecret(byte[] secret)
    {
        if (secret.Length < 16) throw new ArgumentException("a cluster secret has at least 16 bytes", nameof(secret));
        using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = PrivateScalar(secret) });
        var request = new CertificateRequest("CN=facecluster-node", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        using var ephemeral = request.CreateSelfSigned(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero),
                                                       new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero));
        // SslStream on Linux needs the key in a form OpenSSL can hand to the TLS stack: round-trip through PKCS#12.
        var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null,
                                                           X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);
        return new ClusterTls(certificate);
    }

    /// <summary>Whether a peer's certificate is this cluster's: the same public key (pinned).</summary>
    public bool Accepts(X509Certificate? peer) =>
        peer != null && CryptographicOperations.FixedTimeEquals(_pin, Pin(peer as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(peer.GetRawCertData())));

    /// <summary>Why a peer's certificate is refused, for the log; null when it is accepted.</summary>
    public string? Refusal(X509Certificate? peer, SslPolicyErrors errors) =>
        peer == null ? $"the peer presented no certificate ({errors})"
        : Accepts(peer) ? null
        : $"the peer's certificate ({peer.Subject}) carries another key: it belongs to another cluster secret";

    /// <summary>The last refusal of a peer that presented a certificate of another key ("peer: why"); null if none.</summary>
    public string? LastForeignPeer => Volatile.Read(ref _lastForeignPeer);

    private string? _lastForeignPeer;

    /// <summary>Validates a peer's certificate as Akka.Remote's handshake asks; a refusal is remembered (see <see cref="LastForeignPeer"/>).</summary>
    public bool Validate(X509Certificate? peer, string remote, SslPolicyErrors errors, out string? why)
    {
        why = Refusal(peer, errors);
        if (why != null && peer != null) Volatile.Write(ref _lastForeignPeer, $"{remote}: {why}");
        return why == null;
    }

    private static byte[] Pin(X509Certificate2 certificate) => SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());

    /// <summary>A valid P-256 private scalar (1 ≤ d &lt; n) from the secret, by HKDF with a counter until one fits.</summary>
    private static byte[] PrivateScalar(byte[] secret)
    {
        byte[] order = Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        for (byte counter = 0; ; counter++)
        {
            byte[] d = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [counter], info: KeyInfo);
            if (d.AsSpan().SequenceCompareTo(order) < 0 && d.AsSpan().IndexOfAnyExcept((byte)0) >= 0) return d;
        }
    }

    public void Dispose() => Certificate.Dispose();
}
