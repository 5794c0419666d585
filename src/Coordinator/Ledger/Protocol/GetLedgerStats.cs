
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks for the ledger's totals (`facecluster ledger stats`, GET /api/ledger/stats); the reply is <see cref="LedgerStats"/>.</summary>
public sealed record GetLedgerStats : ILedgerRequest
{
    public static readonly GetLedgerStats Instance = new();
}
