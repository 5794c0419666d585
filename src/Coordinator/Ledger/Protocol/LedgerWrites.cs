namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// The ledger tells its parent (the coordinator) whenever its writes to ledger.db pause or resume; the coordinator's
/// status shows it. <paramref name="PausedBecause"/> is null when writes go through.
/// </summary>
/// <param name="HeldRecords">Loss records held in memory, not yet in ledger.db.</param>
public sealed record LedgerWrites(string? PausedBecause, long HeldRecords) : ILedgerMessage;
