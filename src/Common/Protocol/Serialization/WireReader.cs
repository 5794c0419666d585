using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace FaceCluster.Common.Protocol.Serialization;

/// <summary>Reads what <see cref="WireWriter"/> wrote; any inconsistency is an <see cref="InvalidDataException"/>.</summary>
public sealed class WireReader
{
    private readonly byte[] _data;
    private int _pos;

    public WireReader(byte[] data) => _data = data;

    public bool AtEnd => _pos == _data.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _pos + count > _data.Length)
            throw new InvalidDataException($"message truncated: wanted {count} bytes at offset {_pos} of {_data.Length}");
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    public byte ReadByte() => Take(1)[0];
    public bool ReadBool() => ReadByte() != 0;
    public int ReadInt() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public long ReadLong() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public ulong ReadULong() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public string ReadString()
    {
        int n = ReadInt();
        if (n == -1) throw new InvalidDataException("unexpected null string");
        return Encoding.UTF8.GetString(Take(n));
    }

    public string? ReadNullableString()
    {
        int n = ReadInt();
        return n == -1 ? null : Encoding.UTF8.GetString(Take(n));
    }

    public int[] ReadInts() => ReadPrimitives<int>();
    public long[] ReadLongs() => ReadPrimitives<long>();
    public float[] ReadFloats() => ReadPrimitives<float>();
    public double[] ReadDoubles() => ReadPrimitives<double>();

    public byte[] ReadBytes() => Take(ReadCount(1)).ToArray();

    public string[] ReadStrings()
    {
        var result = new string[ReadCount(4)];
        for (int i = 0; i < result.Length; i++) result[i] = ReadString();
        return result;
    }

    public T[] ReadArray<T>(Func<WireReader, T> item)
    {
        var result = new T[ReadCount(1)];
        for (int i = 0; i < result.Length; i++) result[i] = item(this);
        return result;
    }

    private int ReadCount(int minBytesPerItem)
    {
        int n = ReadInt();
        if (n < 0 || (long)n * minBytesPerItem > _data.Length - _pos)
            throw new InvalidDataException($"bad array length {n} at offset {_pos - 4}");
        return n;
    }

    private T[] ReadPrimitives<T>() where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        int n = ReadCount(size);
        var result = new T[n];
        Take(n * size).CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }
}
