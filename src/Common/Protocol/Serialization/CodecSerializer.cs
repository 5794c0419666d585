using Akka.Actor;
using Akka.Serialization;

namespace FaceCluster.Common.Protocol.Serialization;

/// <summary>An Akka serializer over one protocol's <see cref="CodecTable"/>: the manifest names the message and its layout's version.</summary>
public abstract class CodecSerializer(ExtendedActorSystem system, CodecTable codecs) : SerializerWithStringManifest(system)
{
    public override string Manifest(object o) => codecs.Manifest(o);

    public override byte[] ToBinary(object obj) => codecs.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest) => codecs.FromBinary(bytes, manifest);
}
