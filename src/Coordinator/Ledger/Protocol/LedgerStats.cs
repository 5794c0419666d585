
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>The ledger's totals.</summary>
/// <param name="Mode">The curation mode: auto | review | off.</param>
/// <param name="Samples">Samples of the registered face set.</param>
/// <param name="Observations">Per-sample losses recorded (finite ones).</param>
/// <param name="Steps">Steps finalized (their relative losses computed).</param>
/// <param name="Cycles">Cycles closed.</param>
/// <param name="LastCycle">The last closed cycle (-1 before the first close).</param>
/// <param name="LastStep">The newest step reported.</param>
/// <param name="IncompleteSteps">Steps finalized as stale with fewer reports than announced.</param>
/// <param name="PendingSteps">Steps still waiting for reports.</param>
/// <param name="LateReports">Reports that arrived after their step was finalized (compared with that step's median).</param>
/// <param name="UnflushedRecords">Loss records accepted but not yet in ledger.db: what a crash now would lose.</param>
/// <param name="LastGlobalLoss">Mean loss of the newest finalized step (NaN before the first).</param>
/// <param name="RawReports">Loss reports accepted (each kept raw in ledger.db).</param>
/// <param name="NonFiniteLosses">NaN or infinite losses received (kept raw, left out of the statistics).</param>
/// <param name="UnregisteredSamples">Sample ids reported but not in the registered face set.</param>
public sealed record LedgerStats(
    string Mode, int Samples, int Identities, int Workers,
    long Observations, long Steps, long Cycles, long LastCycle, long LastStep,
    int Active, int Refed, int Flagged, int AwaitingReview, int Quarantined, int Restored,
    long IncompleteSteps, long PendingSteps, long LateReports, long UnflushedRecords,
    double LastGlobalLoss, long RawReports, long NonFiniteLosses, int UnregisteredSamples) : ILedgerMessage;
