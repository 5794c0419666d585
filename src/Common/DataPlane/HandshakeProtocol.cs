using System.Security.Cryptography;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// The data-plane handshake, which every connection completes before any data flows:
/// <list type="number">
/// <item>client → server: <see cref="HelloMessage"/> (magic, version, purpose, generation, ranks, ring fingerprint, client nonce);</item>
/// <item>server → client: <see cref="ChallengeMessage"/> (status, server generation and rank, server nonce,
/// HMAC-SHA256(secret, "FCDP server proof v1" | hello | challenge[0..32]));</item>
/// <item>client → server: proof (36 bytes: u8 status, 3 zero bytes, HMAC-SHA256(secret, "FCDP client proof v1" | hello | challenge));</item>
/// <item>server → client: verdict (4 bytes: u8 status, 3 zero bytes).</item>
/// </list>
/// Both proofs bind the two fresh nonces, so neither can be replayed, and the secret itself never travels.
/// A side that refuses says why in its status byte (when it still can) and closes the connection.
/// </summary>
internal static class HandshakeProtocol
{
    public const ushort Version = 1;
    public const int NonceSize = 16;
    public const int MacSize = 32;
    public const int ProofSize = 4 + MacSize;
    public const int VerdictSize = 4;

    public static ReadOnlySpan<byte> Magic => "FCDP"u8;
    private static ReadOnlySpan<byte> ServerLabel => "FCDP server proof v1"u8;
    private static ReadOnlySpan<byte> ClientLabel => "FCDP client proof v1"u8;

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceSize);

    /// <summary>The server's proof over the hello and the challenge's first 32 bytes.</summary>
    public static byte[] ServerMac(byte[] secret, ReadOnlySpan<byte> hello, ReadOnlySpan<byte> challenge)
    {
        using var mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        mac.AppendData(ServerLabel);
        mac.AppendData(hello[..HelloMessage.Size]);
        mac.AppendData(challenge[..ChallengeMessage.ProofOffset]);
        return mac.GetHashAndReset();
    }

    /// <summary>The client's proof over the hello and the whole challenge (server proof included).</summary>
    public static byte[] ClientMac(byte[] secret, ReadOnlySpan<byte> hello, ReadOnlySpan<byte> challenge)
    {
        using var mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        mac.AppendData(ClientLabel);
        mac.AppendData(hello[..HelloMessage.Size]);
        mac.AppendData(challenge[..ChallengeMessage.Size]);
        return mac.GetHashAndReset();
    }

    public static bool ProofMatches(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> received) =>
        CryptographicOperations.FixedTimeEquals(expected, received);

    /// <summary>The 4-byte status message (verdict, or a proof's status part).</summary>
    public static byte[] StatusBytes(HandshakeRejection status, int size)
    {
        var bytes = new byte[size];
        bytes[0] = (byte)status;
        return bytes;
    }

    /// <summary>Human-readable reason, used in both sides' logs and exceptions.</summary>
    public static string Describe(HandshakeRejection reason) => reason switch
    {
        HandshakeRejection.None => "accepted",
        HandshakeRejection.BadMagic => "not the FaceCluster data-plane protocol (bad magic)",
        HandshakeRejection.UnsupportedVersion => "unsupported protocol version",
        HandshakeRejection.AuthenticationFailed => "authentication failed: the two sides do not hold the same shared secret",
        HandshakeRejection.StaleGeneration => "stale ring generation",
        HandshakeRejection.UnknownGeneration => "the endpoint has not joined that ring generation",
        HandshakeRejection.WrongRank => "the endpoint holds a different rank in that ring",
        HandshakeRejection.NotPredecessor => "the connecting rank is not the endpoint's predecessor in the ring",
        HandshakeRejection.RingMismatch => "the two sides disagree about the ring's members",
        HandshakeRejection.DuplicateConnection => "the predecessor is already connected for that ring generation",
        HandshakeRejection.NoStateAvailable => "no state available",
        HandshakeRejection.EndpointClosing => "the endpoint is shutting down",
        HandshakeRejection.BadPurpose => "unknown connection purpose",
        HandshakeRejection.TooManyConnections => "too many connections in progress",
        HandshakeRejection.Timeout => "the handshake timed out",
        HandshakeRejection.ProtocolViolation => "the peer broke off or garbled the handshake",
        HandshakeRejection.JoinEnded => "the endpoint's join of that ring generation has already ended",
        _ => $"refusal code {(byte)reason}",
    };
}
