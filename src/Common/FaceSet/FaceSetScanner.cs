using FaceCluster.Common.IO;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Scans a face set in the OpenFace layout, DIR/&lt;identity&gt;/&lt;images&gt; (images may sit in sub-folders of
/// an identity folder). Hidden names (leading dot) are skipped silently; files directly in DIR are reported
/// and not used; symbolic-link loops and unreadable folders are reported and not entered.
/// <para>
/// <see cref="Scan"/> reads, hashes (SHA-256) and validates files in parallel. Given the previous
/// manifest, entries whose size and modification time are unchanged are taken over without reading the
/// file; files whose size or time changed are hashed again and only probed when the content differs.
/// Sample ids follow relative paths from the previous manifest; new files get new ids.
/// </para>
/// </summary>
public sealed class FaceSetScanner
{
    private readonly ILogger _logger;

    public FaceSetScanner(ScanOptions options, ILogger? logger = null)
    {
        options.Validate();
        Options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    public ScanOptions Options { get; }

    /// <summary>Files read in parallel by <see cref="Scan"/>; defaults to the processor count.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The most bytes the scan's threads hold at once (files read plus images decoded), whatever the parallelism.</summary>
    public long MaxBytesInFlight { get; init; } = 512L << 20;

    /// <summary>
    /// Told, every <see cref="ProgressEveryFiles"/> files examined, what the scan knows so far (the files examined, as a
    /// partial manifest with the run's ids) and how many of how many it has examined: the caller saves it, so that a
    /// scan cut off (a restart, a crash) does not hash those files again, and reports the progress.
    /// </summary>
    public Action<FaceManifest, int, int>? Progress { get; init; }

    public int ProgressEveryFiles { get; init; } = 2000;

    /// <summary>Counts the files as they are examined (for a status answered while the scan runs).</summary>
    public ScanProgress? Counter { get; init; }

    /// <summary>The least time between two <see cref="Progress"/> calls (a large face set's partial manifest is large too).</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Lists a face-set folder without reading images. Throws <see cref="FaceClusterException"/> naming the
    /// path when it is missing, a file, unreadable, empty, or has no identity folders.
    /// </summary>
    public static FaceSetListing List(string dataDir, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(dataDir))
            throw new FaceClusterException("--data: no face-set folder given", ExitCodes.UsageError);
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir));
        if (File.Exists(root))
            throw new FaceClusterException($"{root} is a file, not a face-set folder (expected DIR/<identity>/<images>)");
        if (!Directory.Exists(root))
            throw new FaceClusterException($"face-set folder {root} does not exist");

        string rootReal;
        List<FileSystemInfo> top;
        try
        {
            rootReal = RealPaths.Resolve(root);
            top = Entries(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"cannot read face-set folder {root}: {e.Message}", inner: e);
        }
        if (top.Count == 0)
            throw new FaceClusterException($"face-set folder {root} is empty (expected DIR/<identity>/<images>)");

        var outside = new List<string>();
        var identityDirs = new List<FileSystemInfo>();
        foreach (var entry in top)
        {
            if (IsDirectory(entry)) identityDirs.Add(entry);
            else outside.Add(entry.Name);
        }
        if (identityDirs.Count == 0)
            throw new FaceClusterException(
                $"face-set folder {root} has no identity folders (expected DIR/<identity>/<images>; found {outside.Count} file(s) directly in it)");

        var files = new List<ListedFile>();
        var ignored = new List<string>();
        var skipped = new List<SkippedDirectory>();
        var identities = new List<string>();
        // Every identity folder's real path is claimed first, so a link inside one identity folder to
        // another identity folder (or back up to an ancestor) is reported instead of walked twice.
        var visited = new HashSet<string>(StringComparer.Ordinal) { rootReal };
        var roots = new List<(FileSystemInfo Entry, string Real)>();
        foreach (var dir in identityDirs)
        {
            string real;
            try
            {
                real = dir.LinkTarget is null ? Path.Join(rootReal, dir.Name) : RealPaths.Resolve(dir.FullName);
            }
            catch (IOException e)
            {
                skipped.Add(new SkippedDirectory(dir.Name, $"symbolic link cannot be resolved: {e.Message}"));
                continue;
            }
            if (!visited.Add(real))
            {
                skipped.Add(new SkippedDirectory(dir.Name, $"symbolic link loop: {dir.Name} -> {dir.LinkTarget} is a folder already scanned"));
                continue;
            }
            roots.Add((dir, real));
        }

        foreach (var (identityDir, identityReal) in roots)
        {
            string identity = identityDir.Name;
            identities.Add(identity);
            var stack = new Stack<(string Full, string Real, string Rel)>();
            stack.Push((identityDir.FullName, identityReal, identity));
            while (stack.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (full, real, rel) = stack.Pop();
                List<FileSystemInfo> entries;
                try
                {
                    entries = Entries(full);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    skipped.Add(new SkippedDirectory(rel, $"cannot read folder: {e.Message}"));
                    continue;
                }
                var subdirs = new List<(string, string, string)>();
                foreach (var entry in entries)
                {
                    string entryRel = rel + "/" + entry.Name;
                    if (IsDirectory(entry))
                    {
                        string entryReal;
                        try
                        {
                            entryReal = entry.LinkTarget is null ? Path.Join(real, entry.Name) : RealPaths.Resolve(entry.FullName);
                        }
                        catch (IOException e)
                        {
                            skipped.Add(new SkippedDirectory(entryRel, $"symbolic link cannot be resolved: {e.Message}"));
                            continue;
                        }
                        if (!visited.Add(entryReal))
                        {
                            skipped.Add(new SkippedDirectory(entryRel, $"symbolic link loop: {entryRel} -> {entry.LinkTarget} is a folder already scanned"));
                            continue;
                        }
                        subdirs.Add((entry.FullName, entryReal, entryRel));
                    }
                    else if (FaceImageFiles.HasImageExtension(entry.Name))
                        files.Add(Stat(entry.FullName, entryRel, identity));
                    else
                        ignored.Add(entryRel);
                }
                for (int i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        ignored.Sort(StringComparer.Ordinal);
        outside.Sort(StringComparer.Ordinal);
        skipped.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        identities.Sort(StringComparer.Ordinal);
        return new FaceSetListing(root, identities, files, outside, ignored, skipped);
    }

    /// <summary>
    /// Lists, reads, hashes and validates the face set. With <paramref name="previous"/>, sample ids are
    /// kept by relative path; when the previous manifest was built for the same data root, options and
    /// format, its entries are reused for files whose size and modification time are unchanged.
    /// </summary>
    public ScanResult Scan(string dataDir, FaceManifest? previous = null, CancellationToken cancellationToken = default)
        => Scan(List(dataDir, cancellationToken), previous, cancellationToken);

    /// <summary>As <see cref="Scan(string, FaceManifest?, CancellationToken)"/>, for a listing already made.</summary>
    public ScanResult Scan(FaceSetListing listing, FaceManifest? previous = null, CancellationToken cancellationToken = default)
    {
        bool reusable = previous is not null && previous.ReuseBlocker(listing.DataRoot, Options) is null;

        var previousSamples = new Dictionary<string, FaceSample>(StringComparer.Ordinal);
        var previousRejects = new Dictionary<string, RejectedFile>(StringComparer.Ordinal);
        var retired = new Dictionary<string, int>(StringComparer.Ordinal);
        int nextId = 0;
        if (previous is not null)
        {
            foreach (var (path, id) in previous.RetiredIds)
            {
                retired[path] = id;
                nextId = Math.Max(nextId, id + 1);
            }
            foreach (var s in previous.Samples.Concat(previous.ExcludedIdentities.SelectMany(e => e.Samples)))
            {
                previousSamples[s.RelativePath] = s;
                nextId = Math.Max(nextId, s.Id + 1);
            }
            foreach (var r in previous.Rejected) previousRejects[r.RelativePath] = r;
            nextId = Math.Max(nextId, previous.NextId);
        }

        var outcomes = new Outcome[listing.Files.Count];
        var toExamine = new List<int>();
        for (int i = 0; i < listing.Files.Count; i++)
        {
            var f = listing.Files[i];
            previousSamples.TryGetValue(f.RelativePath, out var ps);
            previousRejects.TryGetValue(f.RelativePath, out var pr);
            if (reusable && f.StatError is null)
            {
                if (ps is not null && ps.SizeBytes == f.SizeBytes && ps.MtimeUtcTicks == f.MtimeUtcTicks)
                {
                    outcomes[i] = new Outcome(ps, null, Kind.Reused, false, false);
                    continue;
                }
                if (pr is not null && pr.Reason != RejectReason.Unreadable && pr.SizeBytes == f.SizeBytes && pr.MtimeUtcTicks == f.MtimeUtcTicks)
                {
                    outcomes[i] = new Outcome(null, pr, Kind.Reused, false, false);
                    continue;
                }
            }
            toExamine.Add(i);
        }

        Counter?.Listed(listing.Files.Count, toExamine.Count);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Parallelism), CancellationToken = cancellationToken };
        var gate = new MemoryGate(MaxBytesInFlight);
        var examined = new List<Outcome>();
        var sinceProgress = System.Diagnostics.Stopwatch.StartNew();
        Parallel.ForEach(toExamine, parallel, i =>
        {
            var f = listing.Files[i];
            previousSamples.TryGetValue(f.RelativePath, out var ps);
            previousRejects.TryGetValue(f.RelativePath, out var pr);
            var outcome = Examine(f, ps, pr, reusable, gate, cancellationToken);
            outcomes[i] = outcome;
            Counter?.FileExamined();
            if (Progress == null) return;
            lock (examined)
            {
                examined.Add(outcome);
                if (examined.Count % Math.Max(1, ProgressEveryFiles) == 0 && sinceProgress.Elapsed >= ProgressInterval)
                {
                    Progress(PartialManifest(listing.DataRoot, examined, previousSamples, nextId), examined.Count, toExamine.Count);
                    sinceProgress.Restart();
                }
            }
        });

        // Ids: kept by path, new files in path order after the highest id ever handed out.
        var usable = new List<FaceSample>();
        var rejected = new List<RejectedFile>();
        foreach (var o in outcomes)
        {
            if (o.Reject is not null) rejected.Add(o.Reject);
            else usable.Add(o.Sample!);
        }
        for (int i = 0; i < usable.Count; i++)
        {
            var s = usable[i];
            int id = previousSamples.TryGetValue(s.RelativePath, out var old) ? old.Id
                : retired.TryGetValue(s.RelativePath, out int back) ? back
                : nextId++;
            usable[i] = s with { Id = id, IsValidation = FaceSplit.IsValidation(s.ContentHash, Options.ValFraction) };
        }

        var byIdentity = usable.GroupBy(s => s.Identity, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var samples = new List<FaceSample>();
        var excluded = new List<ExcludedIdentity>();
        foreach (var identity in listing.IdentityFolders)
        {
            var list = byIdentity.GetValueOrDefault(identity) ?? [];
            if (list.Count >= Options.MinImages) samples.AddRange(list);
            else excluded.Add(new ExcludedIdentity(identity, list.Count, list.OrderBy(s => s.Id).ToList()));
        }
        samples.Sort((a, b) => a.Id.CompareTo(b.Id));

        var listed = new HashSet<string>(listing.Files.Select(f => f.RelativePath), StringComparer.Ordinal);
        int removed = previousSamples.Keys.Concat(previousRejects.Keys).Distinct(StringComparer.Ordinal).Count(p => !listed.Contains(p));
        var changes = new ManifestChanges(
            Added: outcomes.Count(o => o.Kind == Kind.Added),
            Removed: removed,
            Changed: outcomes.Count(o => o.Kind == Kind.Changed),
            Touched: outcomes.Count(o => o.Kind == Kind.Touched),
            Reused: outcomes.Count(o => o.Kind == Kind.Reused),
            Hashed: outcomes.Count(o => o.Hashed),
            Probed: outcomes.Count(o => o.Probed));

        // Ids of files gone now, and of those gone before that have not come back, stay reserved for their paths.
        var withId = new HashSet<string>(usable.Select(s => s.RelativePath), StringComparer.Ordinal);
        foreach (var (path, s) in previousSamples)
            if (!withId.Contains(path)) retired[path] = s.Id;
        foreach (var path in withId) retired.Remove(path);
        var manifest = new FaceManifest(
            FaceManifest.CurrentFormatVersion, listing.DataRoot, Options, nextId,
            samples, rejected, excluded, FaceManifest.ComputeHash(samples), DateTime.UtcNow) { RetiredIds = retired };
        var report = ReportFor(manifest, listing);
        _logger.LogInformation(
            "Scanned {Root}: {Images} images of {Identities} identities, {Rejected} rejected, {Excluded} identities left out; {Hashed} files hashed, {Probed} probed",
            listing.DataRoot, samples.Count, report.Identities.Count, rejected.Count, excluded.Count, changes.Hashed, changes.Probed);
        return new ScanResult(manifest, report, changes);
    }

    /// <summary>The human-facing report of a manifest and the listing it was built from.</summary>
    public static ScanReport ReportFor(FaceManifest manifest, FaceSetListing listing)
    {
        var identities = manifest.Samples
            .GroupBy(s => s.Identity, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new IdentitySummary(g.Key, g.Count(), g.Count(s => s.IsValidation)))
            .ToList();
        return new ScanReport(listing.DataRoot, manifest.Options, identities, manifest.Rejected, manifest.ExcludedIdentities,
            listing.OutsideFiles, listing.IgnoredFiles, listing.SkippedDirectories);
    }

    private Outcome Examine(ListedFile f, FaceSample? previousSample, RejectedFile? previousReject, bool reusable, MemoryGate gate, CancellationToken cancellationToken)
    {
        bool known = previousSample is not null || previousReject is not null;
        if (f.StatError is not null)
        {
            var r = new RejectedFile(f.RelativePath, f.Identity, RejectReason.Unreadable, f.StatError, -1, -1, "");
            return new Outcome(null, r, KindFor(known, previousReject?.Reason == RejectReason.Unreadable), false, false);
        }
        if (f.SizeBytes > Options.MaxFileBytes)
        {
            var big = FaceImageProbe.TooBig(f.SizeBytes, Options);
            var r = new RejectedFile(f.RelativePath, f.Identity, RejectReason.TooLarge, big.Detail, f.SizeBytes, f.MtimeUtcTicks, "");
            return new Outcome(null, r, KindFor(known, previousReject?.Reason == RejectReason.TooLarge), false, false);
        }
        byte[] bytes;
        try
        {
            using (gate.Acquire(f.SizeBytes, cancellationToken)) bytes = RegularFiles.ReadAtMost(f.FullPath, Options.MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var r = new RejectedFile(f.RelativePath, f.Identity, RejectReason.Unreadable, e.Message, f.SizeBytes, f.MtimeUtcTicks, "");
            return new Outcome(null, r, KindFor(known, previousReject?.Reason == RejectReason.Unreadable), false, false);
        }
        // The size read is the truth (the file may have changed since it was listed, or be a device that said 0).
        long size = bytes.Length;
        if (size > Options.MaxFileBytes)
        {
            var big = FaceImageProbe.TooBig(size, Options);
            var r = new RejectedFile(f.RelativePath, f.Identity, RejectReason.TooLarge, big.Detail, size, f.MtimeUtcTicks, "");
            return new Outcome(null, r, KindFor(known, previousReject?.Reason == RejectReason.TooLarge), false, false);
        }
        string hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        bool sameContent = (previousSample?.ContentHash ?? previousReject?.ContentHash) == hash;
        if (reusable && sameContent)
        {
            if (previousSample is not null)
                return new Outcome(previousSample with { SizeBytes = size, MtimeUtcTicks = f.MtimeUtcTicks }, null, Kind.Touched, true, false);
            if (previousReject is not null && previousReject.Reason != RejectReason.Unreadable)
                return new Outcome(null, previousReject with { SizeBytes = size, MtimeUtcTicks = f.MtimeUtcTicks }, Kind.Touched, true, false);
        }
        // The file and what decoding it will take (at most 8 bytes a pixel, when the header declares a size within the
        // budget), held as one reservation while the image is checked: one larger than the gate runs alone. (Reading held
        // the file's size; it is let go first, so no thread waits while it holds.)
        var structure = ImageStructure.Inspect(bytes);
        long decoded = structure.DeclaredPixels <= Options.MaxPixels ? structure.DeclaredPixels * 8 : 0;
        using var decoding = gate.Acquire(bytes.Length + decoded, cancellationToken);
        var probe = FaceImageProbe.Probe(bytes, Options.MinSide, Options.MaxPixels);
        if (probe.Reject is { } reason)
        {
            var r = new RejectedFile(f.RelativePath, f.Identity, reason, probe.Detail, size, f.MtimeUtcTicks, hash);
            bool sameVerdict = sameContent && previousReject?.Reason == reason;
            return new Outcome(null, r, KindFor(known, sameVerdict), true, true);
        }
        var sample = new FaceSample(-1, f.RelativePath, f.Identity, hash, size, f.MtimeUtcTicks, probe.Width, probe.Height, false);
        return new Outcome(sample, null, KindFor(known, sameContent && previousSample is not null), true, true);
    }

    private static Kind KindFor(bool known, bool same) => !known ? Kind.Added : same ? Kind.Unchanged : Kind.Changed;

    private static ListedFile Stat(string fullPath, string rel, string identity)
    {
        try
        {
            var info = new FileInfo(fullPath);
            if (info.LinkTarget is not null && !info.Exists)
                return new ListedFile(rel, identity, fullPath, -1, -1, $"broken symbolic link to {info.LinkTarget}");
            return new ListedFile(rel, identity, fullPath, info.Length, info.LastWriteTimeUtc.Ticks);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ListedFile(rel, identity, fullPath, -1, -1, e.Message);
        }
    }

    private static List<FileSystemInfo> Entries(string dir)
    {
        var options = new EnumerationOptions
        {
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
            RecurseSubdirectories = false,
            ReturnSpecialDirectories = false,
            MatchType = MatchType.Simple,
        };
        var list = new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options)
            .Where(e => !FaceImageFiles.IsHidden(e.Name))
            .ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>A folder, or a symbolic link to one.</summary>
    private static bool IsDirectory(FileSystemInfo entry)
        => entry is DirectoryInfo || (entry.LinkTarget is not null && Directory.Exists(entry.FullName));

    /// <summary>Reused: taken over without reading. Unchanged: read again (a rebuild, or an unreadable file
    /// retried) with the same verdict.</summary>
    private enum Kind { Added, Reused, Unchanged, Touched, Changed }

    /// <summary>
    /// What a scan under way knows: the files examined so far, with the ids they will keep (the previous manifest's, or
    /// new ones after the highest ever handed out), as a manifest a later scan can reuse entries from.
    /// </summary>
    private FaceManifest PartialManifest(string dataRoot, List<Outcome> examined, Dictionary<string, FaceSample> previous, int nextId)
    {
        var samples = new List<FaceSample>();
        foreach (var o in examined.Where(o => o.Sample != null).OrderBy(o => o.Sample!.RelativePath, StringComparer.Ordinal))
            samples.Add(o.Sample! with { Id = previous.TryGetValue(o.Sample!.RelativePath, out var old) ? old.Id : nextId++ });
        var rejected = examined.Where(o => o.Reject != null).Select(o => o.Reject!).ToList();
        samples.Sort((a, b) => a.Id.CompareTo(b.Id));
        return new FaceManifest(FaceManifest.CurrentFormatVersion, dataRoot, Options, nextId, samples, rejected, [], FaceManifest.ComputeHash(samples), DateTime.UtcNow);
    }

    private readonly record struct Outcome(FaceSample? Sample, RejectedFile? Reject, Kind Kind, bool Hashed, bool Probed);
}
