
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks the ledger to write everything it holds to ledger.db now; the reply is <see cref="LedgerFlushed"/>.</summary>
public sealed record FlushLedger : ILedgerRequest
{
    public static readonly FlushLedger Instance = new();
}
