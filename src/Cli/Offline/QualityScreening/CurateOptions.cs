using FaceCluster.Common.Models.Quality;

namespace FaceCluster.Cli.Offline.QualityScreening;

/// <summary>What `facecluster curate` is asked to do.</summary>
/// <param name="DataDir">The unlabelled face set (every image under it, any identity).</param>
/// <param name="GoodDir">Folder of images labelled good (optional with <paramref name="LabelsFrom"/>).</param>
/// <param name="BadDir">Folder of images labelled bad (optional with <paramref name="LabelsFrom"/>).</param>
/// <param name="Low">Pseudo-label good when P(bad) ≤ this.</param>
/// <param name="High">Pseudo-label bad when P(bad) ≥ this.</param>
/// <param name="Rounds">At most this many train–score–label rounds.</param>
/// <param name="Move">Move pseudo-labelled files into GoodDir / BadDir (never deletes); otherwise only record labels.</param>
/// <param name="LabelsFrom">Run folder whose ledger seeds labels.</param>
/// <param name="ScreenDir">Folder to score with the final classifier, listing what it would reject.</param>
/// <param name="OutDir">Where labels.tsv, screen.tsv and the classifier's checkpoint go.</param>
/// <param name="HoldoutFraction">Share of the seed labels held out to measure accuracy each round.</param>
/// <param name="Reject">--screen rejects images with P(bad) ≥ this.</param>
/// <param name="MaxGrowth">A round adds at most this many times the labels a class has now (most confident first).</param>
public sealed record CurateOptions(
    string DataDir, string? GoodDir, string? BadDir, double Low, double High, int Rounds, bool Move,
    string? LabelsFrom, string? ScreenDir, string OutDir, ModelPreset Preset, QualityTrainingOptions Training,
    double HoldoutFraction = 0.2, double Reject = 0.5, double MaxGrowth = 1.0)
{
    public void Validate()
    {
        if (!(Low >= 0 && Low < 1)) throw new FaceClusterException($"--low must be in [0, 1), got {Low}", ExitCodes.UsageError);
        if (!(High > 0 && High <= 1)) throw new FaceClusterException($"--high must be in (0, 1], got {High}", ExitCodes.UsageError);
        if (Low >= High) throw new FaceClusterException($"--low ({Low}) must be below --high ({High})", ExitCodes.UsageError);
        if (Rounds < 1) throw new FaceClusterException($"--rounds must be at least 1, got {Rounds}", ExitCodes.UsageError);
        if (!(HoldoutFraction >= 0 && HoldoutFraction < 1)) throw new FaceClusterException($"--holdout must be in [0, 1), got {HoldoutFraction}", ExitCodes.UsageError);
        if (!(Reject > 0 && Reject <= 1)) throw new FaceClusterException($"--reject must be in (0, 1], got {Reject}", ExitCodes.UsageError);
        if (!(MaxGrowth > 0) || double.IsInfinity(MaxGrowth)) throw new FaceClusterException($"--max-growth must be positive, got {MaxGrowth}", ExitCodes.UsageError);
        Training.Validate();
        if (!Directory.Exists(DataDir)) throw new FaceClusterException($"--data {DataDir}: the folder does not exist", ExitCodes.UsageError);
        if (GoodDir != null && !Directory.Exists(GoodDir)) throw new FaceClusterException($"--good {GoodDir}: the folder does not exist", ExitCodes.UsageError);
        if (BadDir != null && !Directory.Exists(BadDir)) throw new FaceClusterException($"--bad {BadDir}: the folder does not exist", ExitCodes.UsageError);
        if (ScreenDir != null && !Directory.Exists(ScreenDir)) throw new FaceClusterException($"--screen {ScreenDir}: the folder does not exist", ExitCodes.UsageError);
        if (LabelsFrom == null && (GoodDir == null || BadDir == null))
            throw new FaceClusterException("curate needs labels: give --good and --bad folders, or --labels-from a run folder", ExitCodes.UsageError);
        if (Move && (GoodDir == null || BadDir == null))
            throw new FaceClusterException("--move needs --good and --bad: they are where moved files go", ExitCodes.UsageError);
    }
}
