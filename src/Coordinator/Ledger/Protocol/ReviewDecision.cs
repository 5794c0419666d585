
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// A person's decision on a sample (normally one awaiting review): <paramref name="Quarantine"/> true quarantines
/// it now (it leaves training with the next cycle's plan); false keeps it, as Restored, never to be pruned
/// automatically. The reply is <see cref="ReviewRecorded"/>, or a <see cref="LedgerError"/> for an unknown id.
/// </summary>
public sealed record ReviewDecision(int SampleId, bool Quarantine) : ILedgerRequest;
