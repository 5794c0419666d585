namespace FaceCluster.Common.Protocol.Ledger;

/// <summary>Quarantines, oldest first.</summary>
public sealed record QuarantineList(QuarantineEntry[] Entries) : IProtocolMessage;
