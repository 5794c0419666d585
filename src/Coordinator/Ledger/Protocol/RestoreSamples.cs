
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// A person puts samples back into training: quarantined files are moved back, and every named sample becomes
/// Restored (never pruned again automatically). The reply is <see cref="SamplesRestored"/>, or a
/// <see cref="LedgerError"/> naming the ids the ledger does not know (then nothing is done).
/// </summary>
public sealed record RestoreSamples(int[] SampleIds, string Reason) : ILedgerRequest;
