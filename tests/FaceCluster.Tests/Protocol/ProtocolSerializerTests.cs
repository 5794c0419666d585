using System.Collections;
using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using FaceCluster.Common.Protocol;
using FaceCluster.Common.Protocol.Serialization;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Tests.Protocol;

[Trait("Tier", "unit")]
public class ProtocolSerializerTests
{
    /// <summary>Builds a message of any protocol type with distinct values in every field.</summary>
    internal static object Sample(Type type, ref int counter)
    {
        if (type == typeof(string)) return $"s{counter++}-é✓";
        if (type == typeof(int)) return counter++;
        if (type == typeof(long)) return (long)counter++ * 1_000_000_007L;
        if (type == typeof(ulong)) return ulong.MaxValue - (ulong)counter++;
        if (type == typeof(double)) return counter++ + 0.25;
        if (type == typeof(float)) return counter++ + 0.5f;
        if (type == typeof(bool)) return counter++ % 2 == 0;
        if (type.IsEnum)
        {
            // A defined value other than the default, so a field that is not written reads back wrong.
            var values = Enum.GetValues(type);
            return values.GetValue(values.Length == 1 ? 0 : 1 + counter++ % (values.Length - 1))!;
        }
        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            var array = Array.CreateInstance(element, 3);
            for (int i = 0; i < 3; i++) array.SetValue(Sample(element, ref counter), i);
            return array;
        }
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        if (ctor.GetParameters().Length == 0)
        {
            var instance = type.GetField("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null);
            return instance ?? Activator.CreateInstance(type)!;
        }
        var args = new object[ctor.GetParameters().Length];
        for (int i = 0; i < args.Length; i++) args[i] = Sample(ctor.GetParameters()[i].ParameterType, ref counter);
        var made = ctor.Invoke(args);
        // Members outside the constructor (init-only properties) get values of their own too, so that one the codec drops reads back wrong.
        var positional = ctor.GetParameters().Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.SetMethod is { IsPublic: true } && !positional.Contains(p.Name) && p.GetIndexParameters().Length == 0)
                p.SetValue(made, Sample(p.PropertyType, ref counter));
        return made;
    }

    internal static void AssertDeepEqual(object expected, object actual, string path = "")
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        if (expected is string || expected.GetType().IsPrimitive) { Assert.Equal(expected, actual); return; }
        if (expected is IEnumerable e && actual is IEnumerable a)
        {
            var ea = e.Cast<object>().ToArray();
            var aa = a.Cast<object>().ToArray();
            Assert.Equal(ea.Length, aa.Length);
            for (int i = 0; i < ea.Length; i++) AssertDeepEqual(ea[i], aa[i], $"{path}[{i}]");
            return;
        }
        foreach (var p in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.Name == "EqualityContract") continue;
            AssertDeepEqual(p.GetValue(expected)!, p.GetValue(actual)!, path + "." + p.Name);
        }
    }

    /// <summary>The training protocol's messages and the ledger protocol's, each with its serializer's round trip.</summary>
    private static IEnumerable<(Type Type, Func<object, object> RoundTrip)> Codecs() =>
        ProtocolSerializer.SupportedTypes.Select(t => (t, (Func<object, object>)ProtocolSerializer.RoundTrip))
            .Concat(LedgerProtocolSerializer.SupportedTypes.Select(t => (t, (Func<object, object>)LedgerProtocolSerializer.RoundTrip)));

    public static IEnumerable<object[]> MessageTypes() => Codecs().Select(c => new object[] { c.Type.FullName! });

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Every_message_round_trips_field_for_field(string typeName)
    {
        var (type, roundTrip) = Codecs().Single(c => c.Type.FullName == typeName);
        int counter = 1;
        var message = Sample(type, ref counter);
        var copy = roundTrip(message);
        AssertDeepEqual(message, copy);
    }

    [Fact]
    public void Every_message_type_in_the_protocol_has_a_codec()
    {
        static List<Type> Messages(Type marker) => marker.Assembly.GetTypes()
            .Where(t => marker.IsAssignableFrom(t) && !t.IsInterface && !t.IsAbstract).ToList();
        var all = Messages(typeof(IProtocolMessage));
        var ledger = Messages(typeof(ILedgerMessage));
        Assert.NotEmpty(all);
        Assert.NotEmpty(ledger);
        var missing = all.Except(ProtocolSerializer.SupportedTypes).Concat(ledger.Except(LedgerProtocolSerializer.SupportedTypes)).Select(t => t.Name).ToList();
        Assert.True(missing.Count == 0, "no codec for: " + string.Join(", ", missing));
    }

    [Fact]
    public void Akka_picks_the_binary_serializer_for_protocol_messages()
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.{{ProtocolSerializer.Name}} = "{{typeof(ProtocolSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(IProtocolMessage).AssemblyQualifiedName}}" = {{ProtocolSerializer.Name}} }
            """);
        using var system = ActorSystem.Create("serializer-test", config);
        var step = new StepCompleted("w1", 3, 2, 41, 2, [7, 8, 9], [0.5f, 0.25f, float.NaN], 12.5, 0.5, 3.25);
        var serializer = system.Serialization.FindSerializerFor(step);
        Assert.IsType<ProtocolSerializer>(serializer);
        var bytes = serializer.ToBinary(step);
        // Compact: strings and headers plus 4 bytes per id and per loss, no field names.
        Assert.True(bytes.Length < 120, $"{bytes.Length} bytes");
        var back = (StepCompleted)system.Serialization.Deserialize(bytes, serializer.Identifier, ((Akka.Serialization.SerializerWithStringManifest)serializer).Manifest(step));
        AssertDeepEqual(step, back);
    }

    [Fact]
    public void Truncated_or_unknown_messages_are_rejected_not_misread()
    {
        var config = ConfigurationFactory.ParseString("akka.loglevel = OFF");
        using var system = ActorSystem.Create("serializer-test2", config);
        var serializer = new ProtocolSerializer((ExtendedActorSystem)system);
        var bytes = serializer.ToBinary(new StopAtStep(5, 9));
        Assert.Throws<InvalidDataException>(() => serializer.FromBinary(bytes[..^1], serializer.Manifest(new StopAtStep(5, 9))));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(bytes, "no-such.9"));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([.. bytes, 1], serializer.Manifest(new StopAtStep(5, 9))));
    }
}
