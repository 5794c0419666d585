namespace FaceCluster.Common.FaceSet;

/// <summary>
/// What a face-set folder contains, without reading any image: candidate image files in identity
/// folders, the identity folders, files outside identity folders (reported, not used), files in identity
/// folders without an image extension (ignored), and folders that were not entered.
/// All paths are relative to <see cref="DataRoot"/> with '/' separators, sorted ordinally.
/// </summary>
public sealed record FaceSetListing(
    string DataRoot,
    IReadOnlyList<string> IdentityFolders,
    IReadOnlyList<ListedFile> Files,
    IReadOnlyList<string> OutsideFiles,
    IReadOnlyList<string> IgnoredFiles,
    IReadOnlyList<SkippedDirectory> SkippedDirectories);
