
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Quarantines, oldest first.</summary>
public sealed record QuarantineList(QuarantineEntry[] Entries) : ILedgerMessage;
