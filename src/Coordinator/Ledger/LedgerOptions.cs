using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>Everything the ledger of one run needs.</summary>
/// <param name="RunDir">The run folder: the ledger lives in RUNDIR/ledger.db, moved files under RUNDIR/quarantine.</param>
/// <param name="DataRoot">The face set's folder (sample paths are relative to it); needed by the move action and by restores of moved files.</param>
public sealed record LedgerOptions(string RunDir, string? DataRoot = null)
{
    /// <summary>The curation policy's thresholds and mode.</summary>
    public CurationPolicyOptions Policy { get; init; } = CurationPolicyOptions.Default;

    /// <summary>What quarantining does to a file: exclude (default: untouched) or move.</summary>
    public QuarantineAction PruneAction { get; init; } = QuarantineAction.Exclude;

    /// <summary>When the ledger writes to ledger.db.</summary>
    public FlushPolicy Flush { get; init; } = FlushPolicy.Default;

    /// <summary>Loggers for the ledger; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The face set, registered when the ledger starts (the same as sending it <see cref="RegisterFaceSet"/>); optional.</summary>
    public RegisterFaceSet? FaceSet { get; init; }

    /// <summary>
    /// Sample ids whose image shows no face where the set's faces are (the run's face check, RUNDIR/face-check.json);
    /// null when the check did not run. A prior for the policy, not a verdict.
    /// </summary>
    public IReadOnlySet<int>? NoFaceSamples { get; init; }

    /// <summary>
    /// Each scored training sample's texture outlier score (the run's texture check, <see cref="Runs.RunTextureCheck"/>);
    /// null when the check did not run.
    /// </summary>
    public IReadOnlyDictionary<int, FaceCluster.Common.FaceSet.Texture.TextureOutliers.Score>? TextureScores { get; init; }

    /// <summary>A step still missing reports is finalized with what arrived (and counted incomplete) once a report this many steps newer arrives.</summary>
    public int StaleAfterSteps { get; init; } = 64;

    /// <summary>A step with fewer finite losses than this gets no relative losses (a median of so few says little).</summary>
    public int MinStepRecords { get; init; } = 4;

    /// <summary>Most points kept per loss curve (global; per worker); neighbours are merged beyond it.</summary>
    public int CurvePoints { get; init; } = 2048;

    /// <summary>Most points kept per identity's loss curve (there may be thousands of identities).</summary>
    public int IdentityCurvePoints { get; init; } = 256;

    /// <summary>Throws a <see cref="FaceClusterException"/> naming the option that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(RunDir)) throw new FaceClusterException("the ledger needs a run folder", ExitCodes.UsageError);
        Policy.Validate();
        Flush.Validate();
        if (PruneAction == QuarantineAction.Move && string.IsNullOrWhiteSpace(DataRoot))
            throw new FaceClusterException("the move prune action needs the face set's data root", ExitCodes.UsageError);
        if (StaleAfterSteps < 1) throw new FaceClusterException($"ledger stale-after steps {StaleAfterSteps} must be at least 1", ExitCodes.UsageError);
        if (MinStepRecords < 1) throw new FaceClusterException($"ledger min step records {MinStepRecords} must be at least 1", ExitCodes.UsageError);
        if (CurvePoints < 16 || IdentityCurvePoints < 16) throw new FaceClusterException($"ledger curve points ({CurvePoints}, {IdentityCurvePoints}) must be at least 16", ExitCodes.UsageError);
    }
}
