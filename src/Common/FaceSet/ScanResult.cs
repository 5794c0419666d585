namespace FaceCluster.Common.FaceSet;

/// <summary>The outcome of <see cref="FaceSetScanner.Scan"/>: the manifest (not yet saved), the report and the changes.</summary>
public sealed record ScanResult(FaceManifest Manifest, ScanReport Report, ManifestChanges Changes);
