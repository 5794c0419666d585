using FaceCluster.Common.Protocol.Ledger;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>A status change as stored in ledger.db.</summary>
internal readonly record struct StatusEvent(int Dense, long Cycle, long Step, SampleStatus From, SampleStatus To, string Reason, DateTime At);
