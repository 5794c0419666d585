using System.Buffers.Binary;
using System.Text;

namespace FaceCluster.Tests.Support;

/// <summary>
/// An independent reader of TensorBoard event files for the tests: the TFRecord framing with both masked CRC-32C
/// checks (a bit-by-bit CRC, not the writer's table), and a generic protocol-buffer walk of Event and Summary.
/// </summary>
internal static class TensorBoardReader
{
    public sealed record Event(double WallTime, long Step, string? FileVersion, List<Value> Values);

    public sealed record Value(string Tag, float? Scalar, byte[]? Png, int Width, int Height);

    public static List<Event> Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < file.Length)
        {
            if (file.Length - at < 12) throw new InvalidDataException($"{path}: a truncated record header at byte {at}");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at, 8));
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8, 4)) != MaskedCrc(file.AsSpan(at, 8)))
                throw new InvalidDataException($"{path}: the length CRC of the record at byte {at} does not match");
            int start = at + 12;
            if ((ulong)(file.Length - start - 4) < length) throw new InvalidDataException($"{path}: a truncated record at byte {at}");
            var data = file.AsSpan(start, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(start + (int)length, 4)) != MaskedCrc(data))
                throw new InvalidDataException($"{path}: the data CRC of the record at byte {at} does not match");
            events.Add(ParseEvent(data.ToArray()));
            at = start + (int)length + 4;
        }
        return events;
    }

    private static Event ParseEvent(byte[] bytes)
    {
        double wall = 0;
        long step = 0;
        string? version = null;
        var values = new List<Value>();
        foreach (var (field, _, number, payload) in Fields(bytes))
        {
            if (field == 1) wall = BitConverter.Int64BitsToDouble((long)number);
            else if (field == 2) step = (long)number;
            else if (field == 3) version = Encoding.UTF8.GetString(payload!);
            else if (field == 5)
                foreach (var (f, _, _, v) in Fields(payload!))
                    if (f == 1) values.Add(ParseValue(v!));
        }
        return new Event(wall, step, version, values);
    }

    private static Value ParseValue(byte[] bytes)
    {
        string tag = "";
        float? scalar = null;
        byte[]? png = null;
        int width = 0, height = 0;
        foreach (var (field, _, number, payload) in Fields(bytes))
        {
            if (field == 1) tag = Encoding.UTF8.GetString(payload!);
            else if (field == 2) scalar = BitConverter.Int32BitsToSingle((int)number);
            else if (field == 4)
                foreach (var (f, _, n, p) in Fields(payload!))
                {
                    if (f == 1) height = (int)n;
                    else if (f == 2) width = (int)n;
                    else if (f == 4) png = p;
                }
        }
        return new Value(tag, scalar, png, width, height);
    }

    /// <summary>(field, wire type, number for varint/fixed, bytes for length-delimited).</summary>
    private static IEnumerable<(int Field, int Wire, ulong Number, byte[]? Bytes)> Fields(byte[] bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            ulong key = Varint(bytes, ref at);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: yield return (field, wire, Varint(bytes, ref at), null); break;
                case 1: yield return (field, wire, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8)), null); at += 8; break;
                case 5: yield return (field, wire, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at, 4)), null); at += 4; break;
                case 2:
                    int n = (int)Varint(bytes, ref at);
                    yield return (field, wire, 0, bytes.AsSpan(at, n).ToArray());
                    at += n;
                    break;
                default: throw new InvalidDataException($"wire type {wire} at byte {at}");
            }
        }
    }

    private static ulong Varint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }

    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
        }
        crc ^= 0xFFFFFFFFu;
        return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
    }
}
