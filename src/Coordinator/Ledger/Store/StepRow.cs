
namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>A finalized step as stored in ledger.db.</summary>
/// <param name="Median">Median loss of the step's finite losses (NaN when there were too few for relative losses).</param>
/// <param name="Complete">All announced reports arrived (false: finalized as stale with what arrived).</param>
/// <param name="Late">A report that arrived after its step was finalized, compared with that step's median.</param>
internal readonly record struct StepRow(long Step, long Cycle, int Reports, int Expected, int Records, float Median, float Mean, bool Complete, bool Late, long LastSeq);
