using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// The scanned face set as training uses it, saved as RUNDIR/manifest.json by <see cref="ManifestStore"/>.
/// <see cref="Samples"/> (ordered by id) are the usable images of the identities kept for training, train
/// and validation alike; <see cref="ManifestHash"/> identifies exactly that list so a checkpoint can tell
/// when the face set under it changed. <see cref="NextId"/> is the id the next new file gets: ids of
/// removed files are never handed out again, and a file that comes back (a quarantined face restored) gets its own
/// id back from <see cref="RetiredIds"/>, so its history in the ledger stays its own.
/// </summary>
public sealed record FaceManifest(
    int FormatVersion,
    string DataRoot,
    ScanOptions Options,
    int NextId,
    IReadOnlyList<FaceSample> Samples,
    IReadOnlyList<RejectedFile> Rejected,
    IReadOnlyList<ExcludedIdentity> ExcludedIdentities,
    string ManifestHash,
    DateTime CreatedUtc)
{
    public const int CurrentFormatVersion = 1;

    /// <summary>Relative path → id of every file that had an id and is gone from the face set (kept across scans; absent in older manifests).</summary>
    public IReadOnlyDictionary<string, int> RetiredIds { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal);

    [JsonIgnore]
    public IEnumerable<FaceSample> TrainingSamples => Samples.Where(s => !s.IsValidation);

    [JsonIgnore]
    public IEnumerable<FaceSample> ValidationSamples => Samples.Where(s => s.IsValidation);

    /// <summary>Identities used for training, ordinally sorted.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Identities => Samples.Select(s => s.Identity).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// SHA-256 (lower-case hex) over the samples ordered by id: for each, id, relative path, identity and
    /// content hash, each field followed by a NUL byte.
    /// </summary>
    public static string ComputeHash(IEnumerable<FaceSample> samples)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> zero = [0];
        foreach (var s in samples.OrderBy(s => s.Id))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(s.Id.ToString(CultureInfo.InvariantCulture)));
            hash.AppendData(zero);
            hash.AppendData(Encoding.UTF8.GetBytes(s.RelativePath));
            hash.AppendData(zero);
            hash.AppendData(Encoding.UTF8.GetBytes(s.Identity));
            hash.AppendData(zero);
            hash.AppendData(Encoding.ASCII.GetBytes(s.ContentHash));
            hash.AppendData(zero);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Why this manifest's entries cannot be reused for a scan of <paramref name="dataRoot"/> with
    /// <paramref name="options"/>, or null when they can.
    /// </summary>
    public string? ReuseBlocker(string dataRoot, ScanOptions options)
    {
        if (FormatVersion != CurrentFormatVersion) return $"manifest format {FormatVersion} differs from {CurrentFormatVersion}";
        if (!string.Equals(DataRoot, dataRoot, StringComparison.Ordinal)) return $"the data folder changed (was {DataRoot})";
        if (Options != options) return $"scan options changed (were min-images {Options.MinImages}, val-fraction {Options.ValFraction.ToString(CultureInfo.InvariantCulture)}, min-side {Options.MinSide})";
        return null;
    }
}
