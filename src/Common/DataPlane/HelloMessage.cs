using System.Buffers.Binary;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// The client's first handshake message (52 bytes, little-endian):
/// magic "FCDP" | u16 version | u8 purpose | u8 0 | i64 generation | i32 sender rank | i32 target rank |
/// i32 ring size | u64 ring fingerprint | 16-byte client nonce. Its bytes are part of both proofs.
/// </summary>
internal readonly record struct HelloMessage(
    ushort Version, DataPlanePurpose Purpose, long Generation, int SenderRank, int TargetRank, int RingSize, ulong RingFingerprint)
{
    public const int Size = 52;
    private const int NonceOffset = 36;

    /// <summary>A state request: no ring fields.</summary>
    public static HelloMessage ForState() => new(HandshakeProtocol.Version, DataPlanePurpose.State, 0, -1, -1, 0, 0);

    /// <summary>Writes the message with <paramref name="clientNonce"/> into <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination, ReadOnlySpan<byte> clientNonce)
    {
        destination[..Size].Clear();
        HandshakeProtocol.Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        destination[6] = (byte)Purpose;
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Generation);
        BinaryPrimitives.WriteInt32LittleEndian(destination[16..], SenderRank);
        BinaryPrimitives.WriteInt32LittleEndian(destination[20..], TargetRank);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], RingSize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[28..], RingFingerprint);
        clientNonce[..HandshakeProtocol.NonceSize].CopyTo(destination[NonceOffset..]);
    }

    /// <summary>False when the bytes do not start with the protocol's magic.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out HelloMessage hello)
    {
        hello = default;
        if (source.Length < Size || !source[..4].SequenceEqual(HandshakeProtocol.Magic)) return false;
        hello = new HelloMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
            (DataPlanePurpose)source[6],
            BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[20..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[28..]));
        return true;
    }
}
