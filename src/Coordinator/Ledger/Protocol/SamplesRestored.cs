
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>The samples restored (they go back into training with the next cycle's plan) and those that could not be.</summary>
/// <param name="FilesMovedBack">Quarantined files moved back to their original paths.</param>
public sealed record SamplesRestored(int[] SampleIds, int FilesMovedBack, RestoreFailure[] Failures) : ILedgerMessage;
