
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>A status change of one sample: when, from what, to what, and why.</summary>
/// <param name="At">UTC time, ISO 8601.</param>
public sealed record SampleStatusChange(long Cycle, long Step, string From, string To, string Reason, string At);
