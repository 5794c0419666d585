using System.Security.Cryptography;
using System.Text;

namespace FaceCluster.Common.Hosting;

/// <summary>
/// How a node that holds the cluster secret proves it to the coordinator's HTTP API without sending it: each request
/// carries <c>Authorization: FaceCluster ts=UNIX-SECONDS,proof=HEX</c>, where proof = HMAC-SHA256(secret,
/// "facecluster-http-v1 METHOD PATH TS"). A proof names its request and expires after <see cref="MaxAge"/>, so a
/// captured one fetches nothing else and nothing later.
/// </summary>
public static class HttpSecretProof
{
    public const string Scheme = "FaceCluster";
    private const string Purpose = "facecluster-http-v1";

    /// <summary>How far a proof's time may be from the server's, either way (clocks of a cluster's machines drift).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    /// <summary>The Authorization header value for <paramref name="method"/> <paramref name="path"/> (the path alone, no query).</summary>
    public static string Header(byte[] secret, string method, string path, DateTimeOffset now)
    {
        long ts = now.ToUnixTimeSeconds();
        return $"{Scheme} ts={ts.ToString(CultureInfo.InvariantCulture)},proof={Compute(secret, method, path, ts)}";
    }

    public static bool Verify(byte[] secret, string? header, string method, string path, DateTimeOffset now)
    {
        if (header == null || !header.StartsWith(Scheme + " ", StringComparison.Ordinal) || header.Length > 256) return false;
        string? tsText = null, proof = null;
        foreach (var part in header[(Scheme.Length + 1)..].Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("ts=", StringComparison.Ordinal)) tsText = part[3..];
            else if (part.StartsWith("proof=", StringComparison.Ordinal)) proof = part[6..];
        }
        if (!long.TryParse(tsText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ts) || proof == null) return false;
        if (Math.Abs(now.ToUnixTimeSeconds() - ts) > MaxAge.TotalSeconds) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(secret, method, path, ts)), Encoding.ASCII.GetBytes(proof));
    }

    private static string Compute(byte[] secret, string method, string path, long ts) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes($"{Purpose} {method.ToUpperInvariant()} {path} {ts.ToString(CultureInfo.InvariantCulture)}")));

    /// <summary>
    /// An HttpClient handler that signs every request with the secret. <paramref name="trustedRoots"/>: for a
    /// coordinator serving HTTPS with a certificate of the operator's own CA (--tls-ca); null: the system's trust.
    /// </summary>
    public sealed class Handler(byte[] secret, System.Security.Cryptography.X509Certificates.X509Certificate2Collection? trustedRoots = null)
        : DelegatingHandler(new HttpClientHandler { ServerCertificateCustomValidationCallback = TlsFiles.Validator(trustedRoots) })
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            base.SendAsync(Sign(request), cancellationToken);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
            base.Send(Sign(request), cancellationToken);

        private HttpRequestMessage Sign(HttpRequestMessage request)
        {
            request.Headers.Remove("Authorization");
            request.Headers.TryAddWithoutValidation("Authorization", Header(secret, request.Method.Method, request.RequestUri!.AbsolutePath, DateTimeOffset.UtcNow));
            return request;
        }
    }
}
