using System.Text;

namespace FaceCluster.Common.Models.Checkpoints;

/// <summary>
/// A replica's full state as named files: one per model component (encoder.pt, decoder-&lt;identity&gt;.pt, ...)
/// and optimizer.pt, plus the step it was taken at. The same bundle is written as a checkpoint folder, streamed
/// to a peer that resyncs or joins mid-run, and fetched by the coordinator to checkpoint workers it cannot see.
/// </summary>
public sealed record ModelBundle(string ModelKind, string Preset, string[] Labels, long Step, IReadOnlyDictionary<string, byte[]> Files)
{
    private static readonly byte[] Magic = "FCBUNDLE"u8.ToArray();
    private const int Version = 1;

    public byte[] Serialize()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(ModelKind);
            w.Write(Preset);
            w.Write(Labels.Length);
            foreach (var l in Labels) w.Write(l);
            w.Write(Step);
            w.Write(Files.Count);
            foreach (var (name, bytes) in Files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                w.Write(name);
                w.Write(bytes.Length);
                w.Write(bytes);
            }
        }
        return stream.ToArray();
    }

    public static ModelBundle Deserialize(ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray(), writable: false);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("not a FaceCluster model bundle");
            int version = r.ReadInt32();
            if (version != Version) throw new InvalidDataException($"model bundle version {version}, this build reads {Version}");
            string kind = r.ReadString(), preset = r.ReadString();
            var labels = new string[r.ReadInt32()];
            for (int i = 0; i < labels.Length; i++) labels[i] = r.ReadString();
            long step = r.ReadInt64();
            int count = r.ReadInt32();
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                int length = r.ReadInt32();
                var bytes = r.ReadBytes(length);
                if (bytes.Length != length) throw new EndOfStreamException();
                files[name] = bytes;
            }
            return new ModelBundle(kind, preset, labels, step, files);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("the model bundle is truncated");
        }
    }
}
