
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>The output of <see cref="CurationPolicy.Decide"/>: one outcome per snapshot sample, in the same order (in the caller's buffer when one was given).</summary>
/// <param name="Decided">False in the warm-up, between periods and in mode off: no status changed.</param>
/// <param name="HeldByCaps">Prunes that were due but held back by a cap.</param>
public sealed record CurationDecision(long Cycle, bool Decided, ArraySegment<CurationOutcome> Outcomes, int HeldByCaps);
