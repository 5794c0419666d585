
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks for the <paramref name="Count"/> samples with the highest badness (`facecluster ledger worst`); the reply is <see cref="WorstSamples"/>.</summary>
/// <param name="IncludeQuarantined">Also rank samples already quarantined.</param>
public sealed record GetWorstSamples(int Count, bool IncludeQuarantined) : ILedgerRequest;
