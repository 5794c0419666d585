using System.Security.Cryptography;
using System.Text;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// Lets a worker check, before training, that its cluster secret is the coordinator's: it sends a fresh nonce and
/// HMAC-SHA256(secret, purpose ‖ nonce); the coordinator answers whether that matches (the secret never travels).
/// </summary>
public static class SecretProof
{
    private const string Purpose = "facecluster-secret-check-v1:";

    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string Compute(byte[] secret, string nonce) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(Purpose + nonce)));

    public static bool Verify(byte[] secret, string? nonce, string? proof)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 128 || string.IsNullOrEmpty(proof)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(secret, nonce)), Encoding.ASCII.GetBytes(proof));
    }
}
