
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks for the quarantine list (`facecluster ledger quarantine`); the reply is <see cref="QuarantineList"/>.</summary>
/// <param name="IncludeRestored">Also list quarantines that were undone.</param>
public sealed record GetQuarantine(bool IncludeRestored) : ILedgerRequest;
