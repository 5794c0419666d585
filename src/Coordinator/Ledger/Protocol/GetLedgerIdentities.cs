
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks for per-identity figures (`facecluster ledger identities`); the reply is <see cref="LedgerIdentities"/>.</summary>
public sealed record GetLedgerIdentities : ILedgerRequest
{
    public static readonly GetLedgerIdentities Instance = new();
}
