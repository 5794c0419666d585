namespace FaceCluster.Coordinator.Http;

/// <summary>POST /api/ledger/review body; Decision is "quarantine" or "keep".</summary>
public sealed record ReviewRequest(int? Id, string? Decision);
