
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Per-identity figures, in registration order.</summary>
public sealed record LedgerIdentities(LedgerIdentity[] Identities) : ILedgerMessage;
