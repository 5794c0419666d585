
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks for the loss curves, each downsampled to at most <paramref name="MaxPoints"/> points; the reply is <see cref="LossCurves"/>.</summary>
public sealed record GetLossCurves(int MaxPoints) : ILedgerRequest;
