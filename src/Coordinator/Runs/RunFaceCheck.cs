using System.Collections.Concurrent;
using System.Text.Json;
using FaceCluster.Common.FaceSet.FaceCheck;
using FaceCluster.Common.IO;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// The face check of a run's training samples (<see cref="FaceStructureChecker"/>), done once when the run starts and
/// kept in RUNDIR/face-check.json by content hash, so a restart or a grown face set checks only new images. The result
/// is the set of sample ids whose image shows no face where the set's faces are; the ledger's policy uses it as a prior
/// (docs/CURATION.md), never as a verdict on its own.
/// </summary>
public static class RunFaceCheck
{
    public const string FileName = "face-check.json";
    private const int Version = 1;

    private sealed record CacheFile(int Version, Dictionary<string, FaceCheckResult> Results);

    // A profile has no box: its coordinates are NaN, written as "NaN".
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Null when the check is off or cannot run (the reason is logged; curation then goes without it).</summary>
    public static IReadOnlySet<int>? NoFaceSamples(string runDir, FaceManifest manifest, bool enabled, ILogger log, string cascadeDir = FaceStructureChecker.DefaultCascadeDir)
    {
        if (!enabled) return null;
        if (!FaceStructureChecker.Available(cascadeDir))
        {
            log.LogWarning("face check off: OpenCV's Haar cascades are not in {Dir} (Debian: apt-get install opencv-data); curation goes without the face prior", cascadeDir);
            return null;
        }
        string path = Path.Combine(runDir, FileName);
        var cache = Load(path, log);
        var samples = manifest.TrainingSamples.ToList();
        var missing = samples.Where(s => !cache.ContainsKey(s.ContentHash)).DistinctBy(s => s.ContentHash).ToList();
        if (missing.Count > 0)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var found = new ConcurrentDictionary<string, FaceCheckResult>(StringComparer.Ordinal);
            Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                () => FaceStructureChecker.TryCreate(cascadeDir, out _),
                (sample, _, checker) =>
                {
                    if (checker is null) return checker;
                    try { found[sample.ContentHash] = checker.Check(RegularFiles.ReadImage(Path.Combine(manifest.DataRoot, sample.RelativePath.Replace('/', Path.DirectorySeparatorChar)))); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Unreadable now: not judged (the loader reports it when it needs the image).
                        log.LogDebug("face check: {Path} not read ({Reason})", sample.RelativePath, e.Message);
                    }
                    return checker;
                },
                checker => checker?.Dispose());
            foreach (var (hash, result) in found) cache[hash] = result;
            log.LogInformation("face check: {Checked} images checked in {Seconds:0.0} s", found.Count, clock.Elapsed.TotalSeconds);
            try { DurableFiles.WriteAllText(path, JsonSerializer.Serialize(new CacheFile(Version, cache), Json)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("face check: could not save {Path} ({Reason}); it is redone at the next start", path, e.Message);
            }
        }
        var byId = samples.Where(s => cache.ContainsKey(s.ContentHash)).ToDictionary(s => s.Id, s => cache[s.ContentHash]);
        var noFace = FaceCheckJudge.NoTypicalFace(byId);
        log.LogInformation("face check: {NoFace} of {Samples} training images show no face where the set's faces are", noFace.Count, byId.Count);
        return noFace;
    }

    private static Dictionary<string, FaceCheckResult> Load(string path, ILogger log)
    {
        if (!File.Exists(path)) return new(StringComparer.Ordinal);
        try
        {
            var file = JsonSerializer.Deserialize<CacheFile>(File.ReadAllText(path), Json);
            if (file is { Version: Version, Results: not null }) return new(file.Results, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            log.LogWarning("face check: {Path} is not readable ({Reason}); the images are checked again", path, e.Message);
        }
        return new(StringComparer.Ordinal);
    }
}
