namespace FaceCluster.Cli.Offline.QualityScreening;

/// <summary>What `curate` did: its rounds, every label, the screened folder's scores, and where it wrote them.</summary>
public sealed record CurateResult(IReadOnlyList<CurateRound> Rounds, IReadOnlyList<CuratedLabel> Labels,
    IReadOnlyList<(string Path, double PBad)> Screened, IReadOnlyList<(string Path, double PBad)> Rejected,
    string LabelsFile, string? ScreenFile, string Checkpoint, IReadOnlyList<string> Warnings);
