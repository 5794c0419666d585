namespace FaceCluster.Coordinator.Http;

/// <summary>POST /api/ledger/restore body.</summary>
public sealed record RestoreRequest(int[]? Ids, string? Reason);
