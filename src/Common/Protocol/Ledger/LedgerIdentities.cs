namespace FaceCluster.Common.Protocol.Ledger;

/// <summary>Per-identity figures, in registration order.</summary>
public sealed record LedgerIdentities(LedgerIdentity[] Identities) : IProtocolMessage;
