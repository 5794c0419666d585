
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>
/// The ledger could not do what was asked: <paramref name="Message"/> says why in one line, naming the ids or
/// paths involved. <paramref name="Request"/> is the request's type name.
/// </summary>
public sealed record LedgerError(string Request, string Message, int[] UnknownSampleIds) : ILedgerMessage;
