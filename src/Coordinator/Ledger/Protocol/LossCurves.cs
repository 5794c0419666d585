
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Mean loss over the steps: of the whole global batch, per identity and per worker.</summary>
public sealed record LossCurves(LossCurve Global, LossCurve[] Identities, LossCurve[] Workers) : ILedgerMessage;
