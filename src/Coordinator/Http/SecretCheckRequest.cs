namespace FaceCluster.Coordinator.Http;

/// <summary>POST /api/cluster/secret-check body (see <see cref="FaceCluster.Common.DataPlane.SecretProof"/>).</summary>
public sealed record SecretCheckRequest(string? Nonce, string? Proof);
