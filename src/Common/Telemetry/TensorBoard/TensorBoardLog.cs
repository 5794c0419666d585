using System.Buffers.Binary;

namespace FaceCluster.Common.Telemetry.TensorBoard;

/// <summary>
/// A TensorBoard event file (RUNDIR/tb/events.out.tfevents.&lt;time&gt;.&lt;host&gt;): TFRecords (length, masked CRC-32C
/// of the length, an <c>Event</c> protocol buffer, its masked CRC-32C), the first one the file version
/// "brain.Event:2", then scalars and PNG images, so `tensorboard --logdir RUNDIR` shows the run. Thread-safe; every
/// record is flushed to the file as it is written (TensorBoard reads a growing file).
/// </summary>
public sealed class TensorBoardLog : IDisposable
{
    private readonly FileStream _file;
    private readonly object _gate = new();

    public TensorBoardLog(string directory)
    {
        Directory.CreateDirectory(directory);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Path = System.IO.Path.Combine(directory, $"events.out.tfevents.{now}.{Environment.MachineName}.{Environment.ProcessId}");
        _file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Write(EventWriter.FileVersion(WallTime()));
    }

    /// <summary>The event file.</summary>
    public string Path { get; }

    public void Scalar(string tag, long step, double value) => Write(EventWriter.Scalar(WallTime(), step, tag, (float)value));

    /// <summary>A PNG image (its size read from its header).</summary>
    public void Image(string tag, long step, byte[] png)
    {
        if (png.Length < 24 || png[12] != 'I' || png[13] != 'H' || png[14] != 'D' || png[15] != 'R')
            throw new InvalidDataException("not a PNG image");
        int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4));
        int height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4));
        Write(EventWriter.Image(WallTime(), step, tag, png, width, height));
    }

    private static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private void Write(byte[] eventBytes)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)eventBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(eventBytes));
        lock (_gate)
        {
            _file.Write(header);
            _file.Write(eventBytes);
            _file.Write(footer);
            _file.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate) _file.Dispose();
    }
}
