
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>One sample: its current summary, every closed cycle it was seen in, its status changes and its quarantines.</summary>
public sealed record SampleHistory(SampleSummary Sample, SampleCycleEntry[] Cycles, SampleStatusChange[] Changes, QuarantineEntry[] Quarantines) : ILedgerMessage;
