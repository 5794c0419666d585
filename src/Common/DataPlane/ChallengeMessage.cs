using System.Buffers.Binary;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// The server's answer to a Hello (64 bytes, little-endian): u8 status | u8 0 | u16 server version |
/// i64 server generation | i32 server rank | 16-byte server nonce | 32-byte HMAC-SHA256 proof.
/// A non-zero status is a refusal (nonce and proof are then zero) and the server closes the connection.
/// </summary>
internal readonly record struct ChallengeMessage(HandshakeRejection Status, ushort ServerVersion, long ServerGeneration, int ServerRank)
{
    public const int Size = 64;
    /// <summary>Bytes before the proof: what the server's proof covers.</summary>
    public const int ProofOffset = 32;
    private const int NonceOffset = 16;

    public void Write(Span<byte> destination, ReadOnlySpan<byte> serverNonce)
    {
        destination[..Size].Clear();
        destination[0] = (byte)Status;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], ServerVersion);
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], ServerGeneration);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], ServerRank);
        if (!serverNonce.IsEmpty) serverNonce[..HandshakeProtocol.NonceSize].CopyTo(destination[NonceOffset..]);
    }

    public static ChallengeMessage Read(ReadOnlySpan<byte> source) => new(
        (HandshakeRejection)source[0],
        BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
        BinaryPrimitives.ReadInt64LittleEndian(source[4..]),
        BinaryPrimitives.ReadInt32LittleEndian(source[12..]));
}
