
namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>A sample's slowly changing facts as stored in ledger.db (one row per sample, rewritten only when they change).</summary>
internal readonly record struct SampleInfoRow(int Dense, int Id, int Identity, string Path, bool Registered, SampleStatus Status, long StatusCycle, string Reason);
