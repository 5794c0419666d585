
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Samples awaiting review, worst first; each summary's Reason says why the policy would prune it.</summary>
public sealed record ReviewQueue(SampleSummary[] Samples) : ILedgerMessage;
