
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>A query or user command for the ledger; the coordinator forwards these to its ledger actor.</summary>
public interface ILedgerRequest : ILedgerMessage;
