using Akka.Actor;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Common.Protocol.Serialization;

/// <summary>
/// The binary serializer for every <see cref="IProtocolMessage"/>: explicit, versionable layouts (one codec per
/// message, named by a short manifest with a version suffix), no JSON and no reflection per message.
/// Add a codec when adding a message; change the manifest's version when changing a layout.
/// </summary>
public sealed class ProtocolSerializer(ExtendedActorSystem system) : CodecSerializer(system, Codecs)
{
    /// <summary>Akka serializer id (ids below 100 are reserved by Akka).</summary>
    public const int SerializerId = 4711;
    public const string Name = "facecluster";

    private static readonly CodecTable Codecs = new();

    static ProtocolSerializer()
    {
        // Training: worker → coordinator
        Add<DeviceReport>("dev.1", WriteDevice, ReadDevice);
        Add<RegisterWorker>("reg.2", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Host); w.Write(m.ProtocolVersion); w.Write(m.BuildVersion); w.Write(m.DataPlaneEndpoint);
            WriteDevice(w, m.Device); w.Write(m.ReplicaStep);
        }, r => new RegisterWorker(r.ReadString(), r.ReadString(), r.ReadInt(), r.ReadString(), r.ReadString(), ReadDevice(r), r.ReadLong()));
        Add<StepCompleted>("step.1", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Generation); w.Write(m.Cycle); w.Write(m.Step); w.Write(m.ReportsInStep);
            w.Write(m.SampleIds); w.Write(m.Losses); w.Write(m.ComputeMs); w.Write(m.DataWaitMs); w.Write(m.AllReduceMs);
        }, r => new StepCompleted(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadInt(), r.ReadInts(), r.ReadFloats(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble()));
        Add<SegmentFinished>("segdone.2", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Generation); w.Write(m.Cycle); w.Write(m.ReplicaStep); w.Write(m.ParameterChecksum);
            w.Write(m.SamplesPerSecond); w.Write(m.MeanComputeMs); w.Write(m.MeanDataWaitMs); w.Write(m.MeanAllReduceMs); w.Write(m.MeanUpdateMs);
            w.Write(m.Telemetry != null);
            if (m.Telemetry is { } t) { w.Write(t.MemoryUsedBytes); w.Write(t.MemoryTotalBytes); w.Write(t.UtilizationPercent); w.Write(t.TemperatureC); w.Write(t.Source); }
        }, r => new SegmentFinished(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadString(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(),
            r.ReadBool() ? new DeviceTelemetry(r.ReadLong(), r.ReadLong(), r.ReadDouble(), r.ReadDouble(), r.ReadString()) : null));
        Add<StepFailed>("stepfail.1", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Generation); w.Write(m.Step); w.Write(m.ReplicaStep); w.Write(m.Reason); w.Write(m.SuspectEndpoint);
        }, r => new StepFailed(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadString(), r.ReadString()));
        Add<WorkerReady>("wready.1", (w, m) => { w.Write(m.WorkerId); WriteDevice(w, m.Device); w.Write(m.ReplicaStep); w.Write(m.ParameterChecksum); },
            r => new WorkerReady(r.ReadString(), ReadDevice(r), r.ReadLong(), r.ReadString()));
        Add<WorkerLeaving>("leave.1", (w, m) => { w.Write(m.WorkerId); w.Write(m.ReplicaStep); },
            r => new WorkerLeaving(r.ReadString(), r.ReadLong()));

        // Training: coordinator → worker
        Add<RunSpec>("run.3", WriteRunSpec, ReadRunSpec);
        Add<RegistrationAccepted>("regok.3", (w, m) => { w.Write(m.WorkerId); WriteRunSpec(w, m.Run); },
            r => new RegistrationAccepted(r.ReadString(), ReadRunSpec(r)));
        Add<RegistrationRefused>("regno.1", (w, m) => { w.Write(m.WorkerId); w.Write(m.Reason); w.Write(m.CoordinatorProtocol); w.Write(m.CoordinatorBuild); },
            r => new RegistrationRefused(r.ReadString(), r.ReadString(), r.ReadInt(), r.ReadString()));
        Add<IdentityProbed>("probe.2", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Generation); w.Write(m.Cycle); w.Write(m.Step); w.Write(m.SampleIds); w.Write(m.OwnLosses); w.Write(m.OtherLosses);
            w.Write(m.LatentWidth); w.Write(m.Latents);
        }, r => new IdentityProbed(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadInts(), r.ReadFloats(), r.ReadFloats())
            { LatentWidth = r.ReadInt(), Latents = r.ReadFloats() });
        Add<SegmentPlan>("plan.2", (w, m) =>
        {
            w.Write(m.Generation); w.Write(m.Cycle); w.Write(m.FromStep); w.Write(m.ToStep); w.Write(m.GlobalBatch);
            w.Write(m.RingWorkerIds); w.Write(m.RingEndpoints); w.Write(m.LocalBatches); w.Write(m.Rank);
            w.Write(m.ShardSeed); w.Write(m.Excluded); w.Write(m.RefeedIds); w.Write(m.RefeedWeights);
            w.Write(m.ResyncFromEndpoint); w.Write(m.ResyncStep); w.Write(m.ProbeIdentity);
        }, r => new SegmentPlan(r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadInt(),
            r.ReadStrings(), r.ReadStrings(), r.ReadInts(), r.ReadInt(),
            r.ReadULong(), r.ReadInts(), r.ReadInts(), r.ReadFloats(), r.ReadString(), r.ReadLong(), r.ReadBool()));
        Add<LossReplay>("replay.1", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Cycle); w.Write(m.Step); w.Write(m.ReportsInStep); w.Write(m.SampleIds); w.Write(m.Losses);
        }, r => new LossReplay(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadInt(), r.ReadInts(), r.ReadFloats()));
        Add<LossesDurable>("durable.1", (w, m) => w.Write(m.ThroughStep), r => new LossesDurable(r.ReadLong()));
        Add<StopAtStep>("stopat.1", (w, m) => { w.Write(m.Generation); w.Write(m.Step); }, r => new StopAtStep(r.ReadLong(), r.ReadLong()));
        Add<AbortSegment>("abort.1", (w, m) => { w.Write(m.Generation); w.Write(m.Reason); }, r => new AbortSegment(r.ReadLong(), r.ReadString()));
        Add<PublishState>("pub.1", (w, m) => w.Write(m.Step), r => new PublishState(r.ReadLong()));
        Add<StateReady>("ready.1", (w, m) => { w.Write(m.WorkerId); w.Write(m.Step); w.Write(m.DataPlaneEndpoint); w.Write(m.ParameterChecksum); },
            r => new StateReady(r.ReadString(), r.ReadLong(), r.ReadString(), r.ReadString()));
        Add<TrainingFinished>("fin.1", (w, m) => { w.Write(m.Step); w.Write(m.Reason); }, r => new TrainingFinished(r.ReadLong(), r.ReadString()));
        Add<CoordinatorStopping>("cstop.1", (w, m) => { w.Write(m.Step); w.Write(m.Reason); }, r => new CoordinatorStopping(r.ReadLong(), r.ReadString()));
    }

    public override int Identifier => SerializerId;

    private static void Add<T>(string manifest, Action<WireWriter, T> write, Func<WireReader, T> read) where T : class => Codecs.Add(manifest, write, read);

    public static IEnumerable<Type> SupportedTypes => Codecs.Types;

    /// <summary>Round-trips a message through the codecs without an actor system (tests, tools).</summary>
    public static object RoundTrip(object message) => Codecs.RoundTrip(message);

    private static void WriteDevice(WireWriter w, DeviceReport d)
    {
        w.Write(d.Kind); w.Write(d.Index); w.Write(d.Vendor); w.Write(d.Name); w.Write(d.MemoryBytes);
        w.Write(d.SamplesPerSecond); w.Write(d.MaxBatch); w.Write(d.Note);
    }

    private static DeviceReport ReadDevice(WireReader r) =>
        new(r.ReadString(), r.ReadInt(), r.ReadString(), r.ReadString(), r.ReadLong(), r.ReadDouble(), r.ReadInt(), r.ReadString());

    private static void WriteRunSpec(WireWriter w, RunSpec s)
    {
        w.Write(s.RunId); w.Write(s.ModelKind); w.Write(s.Preset); w.Write(s.Labels); w.Write(s.ManifestHash);
        w.Write(s.DataRoot); w.Write(s.HttpBaseUrl); w.Write(s.LearningRate); w.Write(s.SsimWeight); w.Write(s.Seed);
        w.Write(s.StepsPerCycle); w.Write(s.Augment); w.Write(s.Accumulate); w.Write((int)s.Wire);
    }

    private static RunSpec ReadRunSpec(WireReader r) =>
        new(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadStrings(), r.ReadString(), r.ReadString(), r.ReadString(),
            r.ReadDouble(), r.ReadDouble(), r.ReadULong(), r.ReadInt(), r.ReadBool(), r.ReadInt(), ReadWire(r));

    private static DataPlane.WireFormat ReadWire(WireReader r)
    {
        int wire = r.ReadInt();
        return wire is (int)DataPlane.WireFormat.Fp32 or (int)DataPlane.WireFormat.Bf16
            ? (DataPlane.WireFormat)wire
            : throw new InvalidDataException($"a run spec names wire format {wire}, which this build does not know");
    }
}
