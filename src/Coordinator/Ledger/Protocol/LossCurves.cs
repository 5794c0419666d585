
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// Mean loss over the steps: of the whole global batch, per identity and per worker; and the checkpoints' figures on
/// the validation split (one curve per figure, "validation:validation/loss" or "validation:validation/accuracy").
/// </summary>
public sealed record LossCurves(LossCurve Global, LossCurve[] Identities, LossCurve[] Workers, LossCurve[] Validation) : ILedgerMessage;
