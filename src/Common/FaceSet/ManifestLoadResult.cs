namespace FaceCluster.Common.FaceSet;

/// <summary>
/// The outcome of <see cref="ManifestStore.LoadOrBuild"/>. <see cref="RebuildReason"/> says why a
/// previous manifest was not reused (null when there was none or it was reused/updated).
/// </summary>
public sealed record ManifestLoadResult(
    FaceManifest Manifest,
    ScanReport Report,
    ManifestAction Action,
    ManifestChanges Changes,
    string ManifestPath,
    string? RebuildReason);
