
namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>One raw loss report as kept in ledger.db.</summary>
/// <param name="Seq">Arrival order (1, 2, …).</param>
/// <param name="Worker">Index of the reporting worker (names: <see cref="LedgerStore.ReadWorkerNames"/>).</param>
public sealed record StoredReport(long Seq, int Worker, long Cycle, long Step, int ReportsInStep, int[] SampleIds, float[] Losses);
