using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace FaceCluster.Common.Protocol.Serialization;

/// <summary>Little-endian binary writer for protocol messages; arrays of primitives are copied in bulk.</summary>
public sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public WireWriter(int initialCapacity = 256) => _buffer = new ArrayBufferWriter<byte>(initialCapacity);

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void Write(byte value) { _buffer.GetSpan(1)[0] = value; _buffer.Advance(1); }
    public void Write(bool value) => Write(value ? (byte)1 : (byte)0);
    public void Write(int value) { BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), value); _buffer.Advance(4); }
    public void Write(long value) { BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value); _buffer.Advance(8); }
    public void Write(ulong value) { BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value); _buffer.Advance(8); }
    public void Write(float value) { BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value); _buffer.Advance(4); }
    public void Write(double value) { BinaryPrimitives.WriteDoubleLittleEndian(_buffer.GetSpan(8), value); _buffer.Advance(8); }

    public void Write(string? value)
    {
        if (value is null) { Write(-1); return; }
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        var span = _buffer.GetSpan(4 + max);
        int n = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, n);
        _buffer.Advance(4 + n);
    }

    public void Write(int[] values) => WritePrimitives<int>(values);
    public void Write(long[] values) => WritePrimitives<long>(values);
    public void Write(float[] values) => WritePrimitives<float>(values);
    public void Write(double[] values) => WritePrimitives<double>(values);

    public void Write(byte[] values)
    {
        Write(values.Length);
        values.CopyTo(_buffer.GetSpan(values.Length));
        _buffer.Advance(values.Length);
    }

    public void Write(string[] values)
    {
        Write(values.Length);
        foreach (var v in values) Write(v);
    }

    public void Write<T>(T[] values, Action<WireWriter, T> item)
    {
        Write(values.Length);
        foreach (var v in values) item(this, v);
    }

    private void WritePrimitives<T>(T[] values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the wire format is little-endian");
        Write(values.Length);
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }
}
