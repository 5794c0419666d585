namespace FaceCluster.Common.Protocol.Ledger;

/// <summary>The ledger wrote everything it held; <paramref name="RawReports"/> reports are in ledger.db.</summary>
public sealed record LedgerFlushed(long RawReports, long Observations, long UnflushedRecords) : IProtocolMessage;
