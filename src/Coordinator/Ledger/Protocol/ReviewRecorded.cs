
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>A review decision applied: the sample's status now and where its file is.</summary>
public sealed record ReviewRecorded(int SampleId, string Status, string CurrentPath) : ILedgerMessage;
