using System.Buffers.Binary;
using System.Text;

namespace FaceCluster.Common.Telemetry.TensorBoard;

/// <summary>
/// The few protocol-buffer messages of tensorflow/core/util/event.proto and summary.proto that an event file needs,
/// encoded by hand: Event {1: wall_time double, 2: step int64, 3: file_version string, 5: summary}, Summary {1: value},
/// Summary.Value {1: tag, 2: simple_value float, 4: image}, Summary.Image {1: height, 2: width, 3: colorspace,
/// 4: encoded_image_string}.
/// </summary>
internal static class EventWriter
{
    public static byte[] FileVersion(double wallTime)
    {
        var e = new ProtoBuffer();
        e.Double(1, wallTime);
        e.Bytes(3, Encoding.UTF8.GetBytes("brain.Event:2"));
        return e.ToArray();
    }

    public static byte[] Scalar(double wallTime, long step, string tag, float value)
    {
        var v = new ProtoBuffer();
        v.Bytes(1, Encoding.UTF8.GetBytes(tag));
        v.Float(2, value);
        return Event(wallTime, step, v);
    }

    public static byte[] Image(double wallTime, long step, string tag, byte[] png, int width, int height)
    {
        var image = new ProtoBuffer();
        image.Varint(1, (ulong)height);
        image.Varint(2, (ulong)width);
        image.Varint(3, 3); // RGB
        image.Bytes(4, png);
        var v = new ProtoBuffer();
        v.Bytes(1, Encoding.UTF8.GetBytes(tag));
        v.Bytes(4, image.ToArray());
        return Event(wallTime, step, v);
    }

    private static byte[] Event(double wallTime, long step, ProtoBuffer value)
    {
        var summary = new ProtoBuffer();
        summary.Bytes(1, value.ToArray());
        var e = new ProtoBuffer();
        e.Double(1, wallTime);
        e.Varint(2, (ulong)step);
        e.Bytes(5, summary.ToArray());
        return e.ToArray();
    }

    private sealed class ProtoBuffer
    {
        private readonly MemoryStream _bytes = new();

        public void Varint(int field, ulong value)
        {
            Key(field, 0);
            Raw(value);
        }

        public void Double(int field, double value)
        {
            Key(field, 1);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(b, value);
            _bytes.Write(b);
        }

        public void Float(int field, float value)
        {
            Key(field, 5);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _bytes.Write(b);
        }

        public void Bytes(int field, byte[] value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _bytes.Write(value);
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void Key(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
