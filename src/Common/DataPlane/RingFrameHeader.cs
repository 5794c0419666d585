using System.Buffers.Binary;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// The 40-byte header in front of every all-reduce segment (little-endian): magic "FCRF" | u8 phase |
/// u8 wire format (<see cref="WireFormat"/>: 0 fp32, 1 bf16) | u16 step within the phase | i64 generation | i64 training step | i32 element count of the whole
/// all-reduce | i32 chunk | i32 segment within the chunk | i32 payload bytes. The receiver knows exactly which
/// frame comes next and compares every field, so a desynchronised peer fails loudly instead of being summed.
/// </summary>
internal readonly record struct RingFrameHeader(
    byte Phase, ushort PhaseStep, long Generation, long Step, int Count, int Chunk, int Segment, int PayloadBytes, WireFormat Wire = WireFormat.Fp32)
{
    public const int Size = 40;
    private static ReadOnlySpan<byte> Magic => "FCRF"u8;

    public void Write(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        destination[4] = Phase;
        destination[5] = (byte)Wire;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], PhaseStep);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Generation);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], Step);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], Chunk);
        BinaryPrimitives.WriteInt32LittleEndian(destination[32..], Segment);
        BinaryPrimitives.WriteInt32LittleEndian(destination[36..], PayloadBytes);
    }

    /// <summary>False when the bytes are not a frame header at all (bad magic).</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out RingFrameHeader header)
    {
        header = default;
        if (source.Length < Size || !source[..4].SequenceEqual(Magic)) return false;
        header = new RingFrameHeader(
            source[4],
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[28..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[36..]),
            (WireFormat)source[5]);
        return true;
    }

    public override string ToString() =>
        $"(generation {Generation}, step {Step}, {RingPlan.PhaseName(Phase)} step {PhaseStep}, count {Count}, chunk {Chunk}, segment {Segment}, {PayloadBytes} bytes of {(Wire is WireFormat.Fp32 or WireFormat.Bf16 ? Wire.Name() : $"wire format {(byte)Wire}")})";
}
