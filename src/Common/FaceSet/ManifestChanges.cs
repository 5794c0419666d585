using System.Text.Json.Serialization;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// How a scan related to the previous manifest. Added/Removed: relative paths that appeared or went away.
/// Changed: same path, different content (or a different verdict). Touched: size or time changed, same
/// content (the entry is kept, its time updated). Reused: entries taken over without reading the file.
/// Hashed: files read and hashed. Probed: files validated (decoded) again.
/// </summary>
public sealed record ManifestChanges(int Added, int Removed, int Changed, int Touched, int Reused, int Hashed, int Probed)
{
    [JsonIgnore]
    public bool Any => Added + Removed + Changed + Touched > 0;
}
