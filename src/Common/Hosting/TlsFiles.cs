using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FaceCluster.Common.Hosting;

/// <summary>The certificate files an operator gives: the HTTPS server's (--tls-cert) and the roots a worker trusts for it (--tls-ca).</summary>
public static class TlsFiles
{
    /// <summary>
    /// A server certificate with its private key: one PEM file holding both (CERTIFICATE and PRIVATE KEY blocks), or
    /// a PKCS#12 file (.pfx/.p12) without a password. Errors name the file and say what is missing.
    /// </summary>
    public static X509Certificate2 LoadServerCertificate(string path, string flag = "--tls-cert")
    {
        try
        {
            X509Certificate2 certificate;
            if (Path.GetExtension(path).ToLowerInvariant() is ".pfx" or ".p12")
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, null);
            else
            {
                string pem = File.ReadAllText(path);
                if (!pem.Contains("PRIVATE KEY", StringComparison.Ordinal))
                    throw new FaceClusterException($"{flag} {path}: the file has no private key; put the certificate and its key in one PEM file", ExitCodes.UsageError);
                using var withKey = X509Certificate2.CreateFromPem(pem, pem);
                // Kestrel on Linux wants the key in a form the TLS stack can use: round-trip through PKCS#12.
                certificate = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
            }
            if (!certificate.HasPrivateKey)
                throw new FaceClusterException($"{flag} {path}: the certificate has no private key", ExitCodes.UsageError);
            if (certificate.NotAfter < DateTime.Now)
                throw new FaceClusterException($"{flag} {path}: the certificate expired on {certificate.NotAfter:yyyy-MM-dd}", ExitCodes.UsageError);
            return certificate;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new FaceClusterException($"{flag} {path}: not a certificate with its key ({e.Message})", ExitCodes.UsageError, e);
        }
    }

    /// <summary>The certificates of a PEM file (a CA, or a self-signed server certificate) a worker trusts for the coordinator's HTTPS.</summary>
    public static X509Certificate2Collection LoadTrustedRoots(string path, string flag = "--tls-ca")
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new FaceClusterException($"{flag} {path}: cannot read certificates ({e.Message})", ExitCodes.UsageError, e);
        }
        if (roots.Count == 0) throw new FaceClusterException($"{flag} {path}: no CERTIFICATE block in the file", ExitCodes.UsageError);
        return roots;
    }

    /// <summary>
    /// A server-certificate check for an HTTPS client: with <paramref name="roots"/>, the chain must end in one of
    /// them (and the name must match); without, the system's own validation stands.
    /// </summary>
    public static Func<HttpRequestMessage, X509Certificate2?, X509Chain?, System.Net.Security.SslPolicyErrors, bool>? Validator(X509Certificate2Collection? roots)
    {
        if (roots == null) return null;
        return (_, certificate, _, errors) =>
        {
            if (certificate == null || (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        };
    }
}
