namespace FaceCluster.Common.Protocol.Serialization;

/// <summary>
/// One protocol's codecs: per message type, a short manifest with a version suffix ("step.1") and an explicit
/// write and read of its fields (<see cref="WireWriter"/>, <see cref="WireReader"/>). Each protocol's Akka serializer
/// owns one table; a message that is not in it, a manifest it does not know, and a message with bytes left over
/// are refused, never guessed at.
/// </summary>
public sealed class CodecTable
{
    private readonly Dictionary<Type, Codec> _byType = new();
    private readonly Dictionary<string, Codec> _byManifest = new(StringComparer.Ordinal);

    private sealed record Codec(string Manifest, Action<WireWriter, object> Write, Func<WireReader, object> Read);

    /// <summary>Registers the codec of <typeparamref name="T"/> under <paramref name="manifest"/> (change its version when the layout changes).</summary>
    public CodecTable Add<T>(string manifest, Action<WireWriter, T> write, Func<WireReader, T> read) where T : class
    {
        var codec = new Codec(manifest, (w, o) => write(w, (T)o), r => read(r));
        _byType.Add(typeof(T), codec);
        _byManifest.Add(manifest, codec);
        return this;
    }

    public IEnumerable<Type> Types => _byType.Keys;

    public string Manifest(object message) => CodecOf(message).Manifest;

    public byte[] ToBinary(object message)
    {
        var writer = new WireWriter();
        CodecOf(message).Write(writer, message);
        return writer.ToArray();
    }

    public object FromBinary(byte[] bytes, string manifest)
    {
        if (!_byManifest.TryGetValue(manifest, out var codec))
            throw new System.Runtime.Serialization.SerializationException($"unknown FaceCluster message '{manifest}' (a peer of another protocol version?)");
        var reader = new WireReader(bytes);
        object message = codec.Read(reader);
        if (!reader.AtEnd) throw new System.Runtime.Serialization.SerializationException($"trailing bytes after '{manifest}'");
        return message;
    }

    /// <summary>Writes and reads back a message without an actor system (tests, tools).</summary>
    public object RoundTrip(object message)
    {
        var codec = CodecOf(message);
        var writer = new WireWriter();
        codec.Write(writer, message);
        var reader = new WireReader(writer.ToArray());
        var result = _byManifest[codec.Manifest].Read(reader);
        if (!reader.AtEnd) throw new InvalidDataException("trailing bytes");
        return result;
    }

    private Codec CodecOf(object message) =>
        _byType.TryGetValue(message.GetType(), out var codec) ? codec
            : throw new ArgumentException($"no FaceCluster codec for {message.GetType().FullName}");
}
