using FaceCluster.Common.Protocol.Ledger;

namespace FaceCluster.Common.Protocol.Serialization;

public sealed partial class ProtocolSerializer
{
    /// <summary>Codecs of the ledger protocol (Protocol/Ledger).</summary>
    private static void RegisterLedgerCodecs()
    {
        Add<RegisterFaceSet>("faceset.1", (w, m) =>
        {
            w.Write(m.IdentityNames); w.Write(m.SampleIds); w.Write(m.IdentityOfSample); w.Write(m.RelativePaths); w.Write(m.ManifestHash);
        }, r => new RegisterFaceSet(r.ReadStrings(), r.ReadInts(), r.ReadInts(), r.ReadStrings(), r.ReadString()));
        Add<LossReport>("loss.1", (w, m) =>
        {
            w.Write(m.WorkerId); w.Write(m.Cycle); w.Write(m.Step); w.Write(m.ReportsInStep); w.Write(m.SampleIds); w.Write(m.Losses);
        }, r => new LossReport(r.ReadString(), r.ReadLong(), r.ReadLong(), r.ReadInt(), r.ReadInts(), r.ReadFloats()));
        Add<CloseCycle>("close.1", (w, m) => { w.Write(m.Cycle); w.Write(m.Step); }, r => new CloseCycle(r.ReadLong(), r.ReadLong()));
        Add<CurationDirectives>("directives.1", (w, m) =>
        {
            w.Write(m.Cycle); w.Write(m.Prune); w.Write(m.Refeed); w.Write(m.RefeedWeights); w.Write(m.Flagged); w.Write(m.AwaitingReview); w.Write(m.Restored);
        }, r => new CurationDirectives(r.ReadLong(), r.ReadInts(), r.ReadInts(), r.ReadFloats(), r.ReadInts(), r.ReadInts(), r.ReadInts()));
    }
}
