
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>One quarantine of one sample (a sample quarantined, restored and quarantined again has two).</summary>
/// <param name="Path">The sample's path relative to the data root.</param>
/// <param name="Action">exclude (file untouched) | move (file moved under RUNDIR/quarantine).</param>
/// <param name="CurrentPath">Where the file is now (absolute when known; the relative path when no data root was given).</param>
/// <param name="Sha256">SHA-256 of the file when it was moved ("" for exclude).</param>
/// <param name="At">UTC time of the quarantine, ISO 8601.</param>
/// <param name="RestoredCycle">The cycle of the restore (-1 while quarantined).</param>
/// <param name="RestoredAt">UTC time of the restore ("" while quarantined).</param>
public sealed record QuarantineEntry(int SampleId, string Identity, string Path, long Cycle, long Step, string Action,
    string CurrentPath, string Sha256, string Reason, string At, bool Restored, long RestoredCycle, string RestoredAt)
{
    /// <summary>The signal that condemned it, named from <see cref="Reason"/> (derived: not on the wire).</summary>
    public string Signal => Curation.CurationSignals.Of(Reason);
}
