using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.State;

namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>
/// The derived state handed to <see cref="LedgerStore"/> at a snapshot: everything needed, with the raw reports
/// after <see cref="Seq"/>, to rebuild the ledger exactly.
/// </summary>
internal sealed class LedgerSnapshot
{
    /// <summary>The newest raw report whose effect the state includes.</summary>
    public long Seq { get; init; }
    public required IReadOnlyList<KeyValuePair<string, object>> Meta { get; init; }
    /// <summary>Write every sample's statistics (and drop older snapshots) rather than only the changed ones.</summary>
    public bool FullStats { get; init; }
    public int Count { get; init; }
    public required SampleCounters[] Counters { get; init; }
    public required SamplePolicyState[] Policy { get; init; }
    public required ProbeCounters[] Probes { get; init; }
    /// <summary>Samples whose statistics changed since the previous snapshot (ignored when <see cref="FullStats"/>).</summary>
    public required IReadOnlyList<int> Dirty { get; init; }
    /// <summary>Sample rows (status, path, identity) changed since the previous snapshot.</summary>
    public required IReadOnlyList<SampleInfoRow> SampleRows { get; init; }
    /// <summary>Steps finalized since the previous snapshot.</summary>
    public required IReadOnlyList<StepRow> Steps { get; init; }
    public required IReadOnlyList<(string Name, int Kind, byte[] Data)> Curves { get; init; }
    public required IReadOnlyList<(int Index, string Name, long Records, double SumLoss)> Workers { get; init; }
}
