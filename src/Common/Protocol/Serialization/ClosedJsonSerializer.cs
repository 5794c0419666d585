using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;

namespace FaceCluster.Common.Protocol.Serialization;

/// <summary>
/// Takes the place of Akka's default JSON serializer (Newtonsoft, id 1, bound to System.Object). That serializer
/// turns any frame that names it into an instance of whatever type the frame's manifest names, so a peer could
/// deliver messages no protocol of ours defines (or the ledger's, which never cross the wire) past every binary
/// codec. FaceCluster's messages all have explicit serializers; nothing of ours may fall back to JSON, and a frame
/// that asks for it is refused, naming the type it claimed.
/// </summary>
public sealed class ClosedJsonSerializer : Serializer
{
    public ClosedJsonSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>The constructor Akka calls for the serializer configured as "json" (it passes that serializer's settings).</summary>
    public ClosedJsonSerializer(ExtendedActorSystem system, Akka.Configuration.Config _) : base(system) { }

    /// <summary>The id Akka gives its JSON serializer: frames naming it land here.</summary>
    public const int JsonSerializerId = 1;

    public override int Identifier => JsonSerializerId;

    public override bool IncludeManifest => true;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException($"{obj.GetType().FullName} has no FaceCluster serializer: nothing is sent as JSON");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException($"refused a remote frame asking for JSON deserialization of {type?.FullName ?? "an unnamed type"}: this cluster accepts only its binary protocols");

    /// <summary>The HOCON that puts this serializer in the JSON serializer's place.</summary>
    public static string Hocon => $$"""
        akka.actor.serializers.json = "{{typeof(ClosedJsonSerializer).FullName}}, {{typeof(ClosedJsonSerializer).Assembly.GetName().Name}}"
        akka.actor.serialization-identifiers."{{typeof(ClosedJsonSerializer).FullName}}, {{typeof(ClosedJsonSerializer).Assembly.GetName().Name}}" = {{JsonSerializerId}}
        akka.actor.serialization-settings.allow-unregistered-types = false
        """;
}
