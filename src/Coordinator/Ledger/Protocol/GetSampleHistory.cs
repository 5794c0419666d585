
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>Asks for one sample's history (`facecluster ledger sample ID`); the reply is <see cref="SampleHistory"/> or a <see cref="LedgerError"/> for an unknown id.</summary>
public sealed record GetSampleHistory(int SampleId) : ILedgerRequest;
