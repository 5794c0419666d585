
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>A sample that could not be restored, and why (e.g. another file now occupies its original path).</summary>
public sealed record RestoreFailure(int SampleId, string Reason);
