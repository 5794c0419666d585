using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.State;

namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>What <see cref="LedgerStore.Load"/> read back: the newest snapshot and the facts written since.</summary>
internal sealed class LoadedLedger
{
    public long Seq { get; set; } = -1;
    public Dictionary<string, object> Meta { get; } = new(StringComparer.Ordinal);
    public List<string> Identities { get; } = new();
    public List<(string Name, long Records, double SumLoss)> Workers { get; } = new();
    public List<SampleInfoRow> Samples { get; } = new();
    public SampleCounters[] Counters { get; set; } = [];
    public SamplePolicyState[] Policy { get; set; } = [];
    public ProbeCounters[] Probes { get; set; } = [];
    public List<(string Name, int Kind, byte[] Data)> Curves { get; } = new();
    public List<QuarantineRecord> Quarantines { get; } = new();
    public long MaxSeq { get; set; } = -1;
    public long StatsEntries { get; set; }
    /// <summary>The snapshot was written with another layout of the per-sample statistics and was not read: the raw log is replayed from its start.</summary>
    public bool StatsRebuilt { get; set; }
}
