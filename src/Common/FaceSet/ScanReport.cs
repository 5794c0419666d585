namespace FaceCluster.Common.FaceSet;

/// <summary>
/// What a scan found, for people: identities used with their image counts, every file that cannot be
/// used with its reason, identities left out for having too few usable images, files outside identity
/// folders, files without an image extension, and folders not entered (symlink loops, unreadable).
/// </summary>
public sealed record ScanReport(
    string DataRoot,
    ScanOptions Options,
    IReadOnlyList<IdentitySummary> Identities,
    IReadOnlyList<RejectedFile> Rejected,
    IReadOnlyList<ExcludedIdentity> ExcludedIdentities,
    IReadOnlyList<string> OutsideFiles,
    IReadOnlyList<string> IgnoredFiles,
    IReadOnlyList<SkippedDirectory> SkippedDirectories)
{
    public int Images => Identities.Sum(i => i.Images);
    public int ValidationImages => Identities.Sum(i => i.ValidationImages);
    public int TrainingImages => Images - ValidationImages;
}
