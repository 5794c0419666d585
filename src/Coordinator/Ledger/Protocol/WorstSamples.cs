
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>The worst samples by badness, worst first.</summary>
/// <param name="Ranked">How many samples were ranked (those with at least one relative observation).</param>
public sealed record WorstSamples(long LastCycle, int Ranked, SampleSummary[] Samples) : ILedgerMessage;
