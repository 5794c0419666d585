
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>The ledger wrote everything it held; <paramref name="RawReports"/> reports are in ledger.db.</summary>
public sealed record LedgerFlushed(long RawReports, long Observations, long UnflushedRecords) : ILedgerMessage;
