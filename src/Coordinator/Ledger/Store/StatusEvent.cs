
namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>A status change as stored in ledger.db; <paramref name="Seq"/> is the log entry (cycle close or user command) that made it.</summary>
internal readonly record struct StatusEvent(long Seq, int Dense, long Cycle, long Step, SampleStatus From, SampleStatus To, string Reason, DateTime At);
