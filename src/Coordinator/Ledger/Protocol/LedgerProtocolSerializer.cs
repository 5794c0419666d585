using Akka.Actor;
using FaceCluster.Common.Protocol.Serialization;

namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// The binary serializer of the ledger's protocol (every <see cref="ILedgerMessage"/>): the same explicit, versioned
/// layouts as the training protocol's <see cref="ProtocolSerializer"/>, in a table of its own. Only coordinator nodes
/// bind it (<c>CoordinatorHostingExtensions.WithCoordinator</c>): workers never see a ledger message, and a remote frame
/// that carries one is refused (<see cref="FromBinary"/>).
/// </summary>
public sealed class LedgerProtocolSerializer(ExtendedActorSystem system) : CodecSerializer(system, Codecs)
{
    /// <summary>Akka serializer id (the training protocol's is <see cref="ProtocolSerializer.SerializerId"/>).</summary>
    public const int SerializerId = 4712;
    public const string Name = "facecluster-ledger";

    private static readonly CodecTable Codecs = new();

    public override int Identifier => SerializerId;

    /// <summary>
    /// The ledger is a child of the coordinator and its callers (the coordinator, the HTTP API) share its process: a
    /// ledger message never crosses the wire, so one that arrives in a remote frame is forged and refused. (Reviews
    /// and restores reach the ledger only through the HTTP API and its token.)
    /// </summary>
    public override object FromBinary(byte[] bytes, string manifest) =>
        throw new System.Runtime.Serialization.SerializationException(
            $"refused a remote frame carrying the ledger message '{manifest}': the ledger's protocol is local to the coordinator's process");

    public static IEnumerable<Type> SupportedTypes => Codecs.Types;

    /// <summary>Round-trips a message through the codecs without an actor system (tests, tools).</summary>
    public static object RoundTrip(object message) => Codecs.RoundTrip(message);

    private static void Add<T>(string manifest, Action<WireWriter, T> write, Func<WireReader, T> read) where T : class => Codecs.Add(manifest, write, read);

    static LedgerProtocolSerializer()
    {
        // Coordinator → ledger
        Add<RegisterFaceSet>("faceset.1", (w, m) =>
        {
            w.Write(m.IdentityNames); w.Write(m.SampleIds); w.Write(m.IdentityOfSample); w.Write(m.RelativePaths); w.Write(m.ManifestHash);
        }, r => new RegisterFaceSet(r.ReadStrings(), r.ReadInts(), r.ReadInts(), r.ReadStrings(), r.ReadString()));
        Add<ProbeReport>("probereport.2", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Cycle); w.Write(m.Step); w.Write(m.SampleIds); w.Write(m.OwnLosses); w.Write(m.OtherLosses);
            w.Write(m.LatentWidth); w.Write(m.Latents);
        }, r => new ProbeReport(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadInts(), r.ReadFloats(), r.ReadFloats())
            { LatentWidth = r.ReadInt(), Latents = r.ReadFloats() });
        Add<LossReport>("loss.1", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Cycle); w.Write(m.Step); w.Write(m.ReportsInStep); w.Write(m.SampleIds); w.Write(m.Losses);
        }, r => new LossReport(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadInt(), r.ReadInts(), r.ReadFloats()));
        Add<ReplayedLossReport>("lossreplay.1", (w, m) =>
        {
            var l = m.Report;
            w.Write(l.WorkerId); w.Write(l.Cycle); w.Write(l.Step); w.Write(l.ReportsInStep); w.Write(l.SampleIds); w.Write(l.Losses);
        }, r => new ReplayedLossReport(new LossReport(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadInt(), r.ReadInts(), r.ReadFloats())));
        Add<LossesDurableFor>("ldurable.1", (w, m) => { w.Write(m.WorkerIds); w.Write(m.ThroughSteps); },
            r => new LossesDurableFor(r.ReadStrings(), r.ReadLongs()));
        Add<CloseCycle>("close.1", (w, m) => { w.Write(m.Cycle); w.Write(m.Step); }, r => new CloseCycle(r.ReadLong(), r.ReadLong()));
        Add<CurationDirectives>("directives.1", (w, m) =>
        {
            w.Write(m.Cycle); w.Write(m.Prune); w.Write(m.Refeed); w.Write(m.RefeedWeights); w.Write(m.Flagged); w.Write(m.AwaitingReview); w.Write(m.Restored);
        }, r => new CurationDirectives(r.ReadLong(), r.ReadInts(), r.ReadInts(), r.ReadFloats(), r.ReadInts(), r.ReadInts(), r.ReadInts()));

        // Queries and their replies
        Add<GetLedgerStats>("lstats?.1", (_, _) => { }, _ => GetLedgerStats.Instance);
        Add<LedgerStats>("lstats.1", (w, m) =>
        {
            w.Write(m.Mode); w.Write(m.Samples); w.Write(m.Identities); w.Write(m.Workers);
            w.Write(m.Observations); w.Write(m.Steps); w.Write(m.Cycles); w.Write(m.LastCycle); w.Write(m.LastStep);
            w.Write(m.Active); w.Write(m.Refed); w.Write(m.Flagged); w.Write(m.AwaitingReview); w.Write(m.Quarantined); w.Write(m.Restored);
            w.Write(m.IncompleteSteps); w.Write(m.PendingSteps); w.Write(m.LateReports); w.Write(m.UnflushedRecords);
            w.Write(m.LastGlobalLoss); w.Write(m.RawReports); w.Write(m.NonFiniteLosses); w.Write(m.UnregisteredSamples);
        }, r => new LedgerStats(r.ReadString(), r.ReadInt(), r.ReadInt(), r.ReadInt(),
            r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong(),
            r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadInt(),
            r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong(),
            r.ReadDouble(), r.ReadLong(), r.ReadLong(), r.ReadInt()));
        Add<GetWorstSamples>("lworst?.1", (w, m) => { w.Write(m.Count); w.Write(m.IncludeQuarantined); }, r => new GetWorstSamples(r.ReadInt(), r.ReadBool()));
        Add<WorstSamples>("lworst.1", (w, m) => { w.Write(m.LastCycle); w.Write(m.Ranked); w.Write(m.Samples, WriteSummary); },
            r => new WorstSamples(r.ReadLong(), r.ReadInt(), r.ReadArray(ReadSummary)));
        Add<GetSampleHistory>("lsample?.1", (w, m) => w.Write(m.SampleId), r => new GetSampleHistory(r.ReadInt()));
        Add<SampleHistory>("lsample.1", (w, m) =>
        {
            WriteSummary(w, m.Sample);
            w.Write(m.Cycles, (w2, c) =>
            {
                w2.Write(c.Cycle); w2.Write(c.Observations); w2.Write(c.MeanRelative); w2.Write(c.MeanLoss); w2.Write(c.Z);
                w2.Write(c.HighOutlier); w2.Write(c.LowOutlier); w2.Write(c.Refed); w2.Write(c.Evaluated); w2.Write(c.Status); w2.Write(c.IdentityOutlier);
            });
            w.Write(m.Changes, (w2, c) => { w2.Write(c.Cycle); w2.Write(c.Step); w2.Write(c.From); w2.Write(c.To); w2.Write(c.Reason); w2.Write(c.At); });
            w.Write(m.Quarantines, WriteQuarantine);
        }, r => new SampleHistory(ReadSummary(r),
            r.ReadArray(r2 => new SampleCycleEntry(r2.ReadLong(), r2.ReadInt(), r2.ReadDouble(), r2.ReadDouble(), r2.ReadDouble(),
                r2.ReadBool(), r2.ReadBool(), r2.ReadBool(), r2.ReadBool(), r2.ReadString(), r2.ReadBool())),
            r.ReadArray(r2 => new SampleStatusChange(r2.ReadLong(), r2.ReadLong(), r2.ReadString(), r2.ReadString(), r2.ReadString(), r2.ReadString())),
            r.ReadArray(ReadQuarantine)));
        Add<GetLedgerIdentities>("lids?.1", (_, _) => { }, _ => GetLedgerIdentities.Instance);
        Add<LedgerIdentities>("lids.1", (w, m) => w.Write(m.Identities, (w2, i) =>
        {
            w2.Write(i.Name); w2.Write(i.Samples); w2.Write(i.Active); w2.Write(i.Refed); w2.Write(i.Flagged); w2.Write(i.AwaitingReview);
            w2.Write(i.Quarantined); w2.Write(i.Restored); w2.Write(i.Observations); w2.Write(i.MeanLoss); w2.Write(i.MeanRelative);
        }), r => new LedgerIdentities(r.ReadArray(r2 => new LedgerIdentity(r2.ReadString(), r2.ReadInt(), r2.ReadInt(), r2.ReadInt(), r2.ReadInt(),
            r2.ReadInt(), r2.ReadInt(), r2.ReadInt(), r2.ReadLong(), r2.ReadDouble(), r2.ReadDouble()))));
        Add<LedgerWrites>("lwrites.1", (w, m) => { w.Write(m.PausedBecause ?? ""); w.Write(m.HeldRecords); },
            r => new LedgerWrites(r.ReadString() is { Length: > 0 } reason ? reason : null, r.ReadLong()));
        Add<GetQuarantine>("lquar?.1", (w, m) => w.Write(m.IncludeRestored), r => new GetQuarantine(r.ReadBool()));
        Add<QuarantineList>("lquar.1", (w, m) => w.Write(m.Entries, WriteQuarantine), r => new QuarantineList(r.ReadArray(ReadQuarantine)));
        Add<GetReviewQueue>("lreview?.1", (_, _) => { }, _ => GetReviewQueue.Instance);
        Add<ReviewQueue>("lreview.1", (w, m) => w.Write(m.Samples, WriteSummary), r => new ReviewQueue(r.ReadArray(ReadSummary)));
        Add<GetLossCurves>("lcurves?.1", (w, m) => w.Write(m.MaxPoints), r => new GetLossCurves(r.ReadInt()));
        Add<LossCurves>("lcurves.2", (w, m) => { WriteCurve(w, m.Global); w.Write(m.Identities, WriteCurve); w.Write(m.Workers, WriteCurve); w.Write(m.Validation, WriteCurve); },
            r => new LossCurves(ReadCurve(r), r.ReadArray(ReadCurve), r.ReadArray(ReadCurve), r.ReadArray(ReadCurve)));
        Add<ValidationReport>("lval.1", (w, m) => { w.Write(m.Step); w.Write(m.Name); w.Write(m.Value); },
            r => new ValidationReport(r.ReadLong(), r.ReadString(), r.ReadDouble()));
        Add<FlushLedger>("lflush?.1", (_, _) => { }, _ => FlushLedger.Instance);
        Add<LedgerFlushed>("lflush.1", (w, m) => { w.Write(m.RawReports); w.Write(m.Observations); w.Write(m.UnflushedRecords); },
            r => new LedgerFlushed(r.ReadLong(), r.ReadLong(), r.ReadLong()));

        // User commands and their replies
        Add<RestoreSamples>("lrestore?.1", (w, m) => { w.Write(m.SampleIds); w.Write(m.Reason); }, r => new RestoreSamples(r.ReadInts(), r.ReadString()));
        Add<SamplesRestored>("lrestore.1", (w, m) =>
        {
            w.Write(m.SampleIds); w.Write(m.FilesMovedBack); w.Write(m.Failures, (w2, f) => { w2.Write(f.SampleId); w2.Write(f.Reason); });
        }, r => new SamplesRestored(r.ReadInts(), r.ReadInt(), r.ReadArray(r2 => new RestoreFailure(r2.ReadInt(), r2.ReadString()))));
        Add<ReviewDecision>("lreview!.1", (w, m) => { w.Write(m.SampleId); w.Write(m.Quarantine); }, r => new ReviewDecision(r.ReadInt(), r.ReadBool()));
        Add<ReviewRecorded>("lreviewed.1", (w, m) => { w.Write(m.SampleId); w.Write(m.Status); w.Write(m.CurrentPath); },
            r => new ReviewRecorded(r.ReadInt(), r.ReadString(), r.ReadString()));
        Add<LedgerError>("lerror.1", (w, m) => { w.Write(m.Request); w.Write(m.Message); w.Write(m.UnknownSampleIds); },
            r => new LedgerError(r.ReadString(), r.ReadString(), r.ReadInts()));
    }

    private static void WriteSummary(WireWriter w, SampleSummary s)
    {
        w.Write(s.SampleId); w.Write(s.Identity); w.Write(s.Path); w.Write(s.Status); w.Write(s.StatusCycle); w.Write(s.Reason);
        w.Write(s.Badness); w.Write(s.Observations); w.Write(s.LastLoss); w.Write(s.EmaLoss); w.Write(s.EmaRelative); w.Write(s.RelativeSpread); w.Write(s.MeanRelative); w.Write(s.Auc);
        w.Write(s.LastZ); w.Write(s.LastErraticZ); w.Write(s.OutlierCycles); w.Write(s.EvaluatedCycles); w.Write(s.RefeedWeight); w.Write(s.RefeedTrend); w.Write(s.LastStep);
        w.Write(s.IdentityProbes); w.Write(s.IdentityMargin); w.Write(s.IdentityZ);
    }

    private static SampleSummary ReadSummary(WireReader r) => new(
        r.ReadInt(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadLong(), r.ReadString(),
        r.ReadDouble(), r.ReadLong(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(),
        r.ReadDouble(), r.ReadDouble(), r.ReadInt(), r.ReadInt(), r.ReadFloat(), r.ReadDouble(), r.ReadLong(),
        r.ReadInt(), r.ReadDouble(), r.ReadDouble());

    private static void WriteQuarantine(WireWriter w, QuarantineEntry q)
    {
        w.Write(q.SampleId); w.Write(q.Identity); w.Write(q.Path); w.Write(q.Cycle); w.Write(q.Step); w.Write(q.Action);
        w.Write(q.CurrentPath); w.Write(q.Sha256); w.Write(q.Reason); w.Write(q.At); w.Write(q.Restored); w.Write(q.RestoredCycle); w.Write(q.RestoredAt);
    }

    private static QuarantineEntry ReadQuarantine(WireReader r) => new(
        r.ReadInt(), r.ReadString(), r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadString(),
        r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadBool(), r.ReadLong(), r.ReadString());

    private static void WriteCurve(WireWriter w, LossCurve c)
    {
        w.Write(c.Name); w.Write(c.Steps); w.Write(c.MeanLoss); w.Write(c.Records);
    }

    private static LossCurve ReadCurve(WireReader r) => new(r.ReadString(), r.ReadLongs(), r.ReadDoubles(), r.ReadLongs());
}
