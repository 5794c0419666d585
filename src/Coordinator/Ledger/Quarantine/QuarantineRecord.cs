
namespace FaceCluster.Coordinator.Ledger.Quarantine;

/// <summary>
/// One quarantine of one sample, as stored in ledger.db: enough to undo it. <see cref="CurrentPath"/> is where the
/// file is now (RUNDIR/quarantine/… after a move; the original path otherwise, or after a restore).
/// </summary>
/// <param name="Id">The record's key in ledger.db (0 until stored).</param>
/// <param name="Dense">The ledger's dense index of the sample.</param>
/// <param name="Path">The sample's path relative to the data root.</param>
/// <param name="OriginalPath">The file's absolute path before the quarantine (the relative path when no data root is known).</param>
/// <param name="Sha256">SHA-256 (lower-case hex) of the file when it was moved; "" for exclude.</param>
/// <param name="RestoredCycle">The cycle of the restore, -1 while quarantined.</param>
public sealed record QuarantineRecord(
    long Id, int Dense, int SampleId, string Identity, string Path, long Cycle, long Step, QuarantineAction Action,
    string OriginalPath, string CurrentPath, string Sha256, string Reason, DateTime At, long RestoredCycle, DateTime? RestoredAt)
{
    public bool IsRestored => RestoredCycle >= 0 || RestoredAt != null;
}
