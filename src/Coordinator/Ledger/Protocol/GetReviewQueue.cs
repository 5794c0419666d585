
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks for the samples awaiting a person's decision (`facecluster ledger review`); the reply is <see cref="ReviewQueue"/>.</summary>
public sealed record GetReviewQueue : ILedgerRequest
{
    public static readonly GetReviewQueue Instance = new();
}
