
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Marks a message of the ledger's protocol; the binary <see cref="LedgerProtocolSerializer"/> is bound to it.</summary>
public interface ILedgerMessage;
