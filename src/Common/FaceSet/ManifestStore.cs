using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Keeps RUNDIR/manifest.json in step with the face-set folder. The manifest is reused when nothing
/// changed, updated when files were added, removed, changed or touched, and rebuilt when it is missing,
/// unreadable, or was made for another data root, other scan options or another format. Writes are atomic
/// (temporary file in RUNDIR, then rename). Nothing is ever written into the face-set folder.
/// </summary>
public static class ManifestStore
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>RUNDIR/manifest.json.</summary>
    public static string PathFor(string runDir) => Path.Combine(Path.GetFullPath(runDir), FileName);

    /// <summary>
    /// Scans <paramref name="dataDir"/>, reusing RUNDIR/manifest.json where it still holds, and saves the
    /// result when it differs. Throws <see cref="FaceClusterException"/> for a missing/empty data folder,
    /// bad options, or a run folder inside the data folder.
    /// </summary>
    /// <param name="progressEveryFiles">How often (in files, and at most every <paramref name="progressInterval"/>, 30 s by default) a scan
    /// saves what it has examined (RUNDIR/manifest.json.partial, reused by a first scan that was cut off) and logs its progress.</param>
    /// <param name="counter">Counts the files as they are examined, and is told when the manifest is written.</param>
    public static ManifestLoadResult LoadOrBuild(string dataDir, string runDir, ScanOptions options,
        ILogger? logger = null, CancellationToken cancellationToken = default, int progressEveryFiles = 2000, TimeSpan? progressInterval = null,
        ScanProgress? counter = null)
    {
        logger ??= NullLogger.Instance;
        options.Validate();
        // Check the data folder (and fail with its own message) before anything is created.
        var listing = FaceSetScanner.List(dataDir, cancellationToken);
        string dataRoot = listing.DataRoot;
        if (RealPaths.IsSameOrInside(runDir, dataRoot))
            throw new FaceClusterException(
                $"run folder {Path.GetFullPath(runDir)} is inside the face-set folder {dataRoot}; choose a run folder outside it (--run)", ExitCodes.UsageError);

        string path = PathFor(runDir);
        string partialPath = path + ".partial";
        FaceManifest? previous = null;
        string? blocker = null;
        if (File.Exists(path))
        {
            previous = TryLoad(path, out string? problem);
            blocker = previous is null ? problem : previous.ReuseBlocker(dataRoot, options);
        }
        // A first scan that was cut off: the files it examined are not hashed again.
        FaceManifest? partial = previous is null && File.Exists(partialPath) ? TryLoad(partialPath, out _) : null;
        if (partial != null && partial.ReuseBlocker(dataRoot, options) is null)
            logger.LogInformation("Resuming the scan of {Root}: {Files} files were examined before it was cut off", dataRoot, partial.Samples.Count + partial.Rejected.Count);
        else partial = null;

        var started = System.Diagnostics.Stopwatch.StartNew();
        var scanner = new FaceSetScanner(options, logger)
        {
            ProgressEveryFiles = progressEveryFiles,
            ProgressInterval = progressInterval ?? TimeSpan.FromSeconds(30),
            Counter = counter,
            Progress = (soFar, done, total) =>
            {
                Save(soFar, partialPath);
                logger.LogInformation("Scanning {Root}: {Done} of {Total} files examined ({Seconds:F0} s)", dataRoot, done, total, started.Elapsed.TotalSeconds);
            },
        };
        var scan = scanner.Scan(listing, previous ?? partial, cancellationToken);
        ManifestAction action = previous is null || blocker is not null ? ManifestAction.Built
            : scan.Changes.Any ? ManifestAction.Updated : ManifestAction.Reused;
        var manifest = scan.Manifest;
        if (action == ManifestAction.Reused)
            manifest = previous!;
        else
            Save(manifest, path);
        try { File.Delete(partialPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (blocker is not null)
            logger.LogInformation("Rebuilt {Path}: {Reason}", path, blocker);
        counter?.Finished();
        return new ManifestLoadResult(manifest, scan.Report, action, scan.Changes, path, blocker);
    }

    /// <summary>Loads a manifest; throws <see cref="FaceClusterException"/> naming the file when it cannot.</summary>
    public static FaceManifest Load(string path)
        => TryLoad(path, out string? problem) ?? throw new FaceClusterException($"cannot use manifest {Path.GetFullPath(path)}: {problem}");

    /// <summary>Loads a manifest, or returns null with the problem (missing, unreadable, malformed).</summary>
    public static FaceManifest? TryLoad(string path, out string? problem)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var manifest = JsonSerializer.Deserialize<FaceManifest>(stream, Json);
            problem = manifest is null ? "the file holds no manifest" : Check(manifest);
            return problem is null ? manifest : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            problem = $"{path} cannot be read: {e.Message}";
            return null;
        }
    }

    /// <summary>Writes the manifest atomically: a temporary file next to it, flushed, then renamed over it.</summary>
    public static void Save(FaceManifest manifest, string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, manifest, Json);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Structural checks on a deserialized manifest (JSON nulls would otherwise surface later).</summary>
    private static string? Check(FaceManifest m)
    {
        if (m.DataRoot is null || m.Options is null || m.Samples is null || m.Rejected is null || m.ExcludedIdentities is null || m.ManifestHash is null)
            return "the manifest is incomplete";
        if (m.Samples.Any(s => s is null || s.RelativePath is null || s.Identity is null || s.ContentHash is null)
            || m.ExcludedIdentities.Any(e => e is null || e.Samples is null || e.Samples.Any(s => s is null || s.RelativePath is null || s.ContentHash is null))
            || m.Rejected.Any(r => r is null || r.RelativePath is null))
            return "the manifest has incomplete entries";
        if (FaceManifest.ComputeHash(m.Samples) != m.ManifestHash)
            return "the manifest hash does not match its samples (the file was edited or damaged)";
        return null;
    }
}
