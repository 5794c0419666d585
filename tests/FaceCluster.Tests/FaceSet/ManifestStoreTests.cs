using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Common.FaceSet;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class ManifestStoreTests
{
    private static readonly ScanOptions Options = new(MinImages: 2, ValFraction: 0.25, MinSide: 16);

    /// <summary>alice/0..3.bmp and bob/0..2.bmp (uncompressed BMP: same size for any content).</summary>
    private static void BuildSet(ScratchFolder data)
    {
        for (int i = 0; i < 4; i++) data.Write($"alice/{i}.bmp", TestImages.FaceBytes(".bmp", i));
        for (int i = 0; i < 3; i++) data.Write($"bob/{i}.bmp", TestImages.FaceBytes(".bmp", 10 + i));
    }

    private static Dictionary<string, (long, DateTime)> Snapshot(string dir)
        => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f)));

    [Fact]
    public void First_scan_builds_second_reuses_without_hashing_and_the_data_folder_is_untouched()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        var before = Snapshot(data.Path);
        string run = runs.Combine("r1");

        var first = ManifestStore.LoadOrBuild(data.Path, run, Options);
        Assert.Equal(ManifestAction.Built, first.Action);
        Assert.Null(first.RebuildReason);
        Assert.Equal(7, first.Changes.Added);
        Assert.Equal(7, first.Changes.Hashed);
        Assert.Equal(Path.Combine(run, "manifest.json"), first.ManifestPath);
        Assert.Equal(["manifest.json"], Directory.GetFiles(run).Select(Path.GetFileName));
        Assert.Equal(Enumerable.Range(0, 7), first.Manifest.Samples.Select(s => s.Id));
        Assert.Equal(data.Path, first.Manifest.DataRoot);
        DateTime written = File.GetLastWriteTimeUtc(first.ManifestPath);

        var second = ManifestStore.LoadOrBuild(data.Path, run, Options);
        Assert.Equal(ManifestAction.Reused, second.Action);
        Assert.Equal(new ManifestChanges(0, 0, 0, 0, 7, 0, 0), second.Changes);
        Assert.Equal(first.Manifest.ManifestHash, second.Manifest.ManifestHash);
        Assert.Equal(written, File.GetLastWriteTimeUtc(first.ManifestPath));

        Assert.Equal(before, Snapshot(data.Path));
    }

    [Fact]
    public void The_scan_counts_its_files_for_a_status_asked_while_it_runs()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        string run = runs.Combine("r1");

        var before = new ScanProgress();
        Assert.Equal("listing", before.Snapshot().Phase);
        ManifestStore.LoadOrBuild(data.Path, run, Options, counter: before);
        var first = before.Snapshot();
        Assert.Equal(("done", 7, 0, 7, 7), (first.Phase, first.Files, first.Reused, first.ToExamine, first.Examined));

        data.Write("bob/3.bmp", TestImages.FaceBytes(".bmp", 13));
        var again = new ScanProgress();
        ManifestStore.LoadOrBuild(data.Path, run, Options, counter: again);
        var second = again.Snapshot();
        Assert.Equal(("done", 8, 7, 1, 1), (second.Phase, second.Files, second.Reused, second.ToExamine, second.Examined));
    }

    [Fact]
    public void The_saved_manifest_round_trips()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        data.Write("alice/bad.jpg", []);
        data.Write("carl/only.bmp", TestImages.FaceBytes(".bmp", 40));
        var built = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest;
        var loaded = ManifestStore.Load(Path.Combine(runs.Path, "manifest.json"));
        Assert.Equal(built.Samples, loaded.Samples);
        Assert.Equal(built.Rejected, loaded.Rejected);
        Assert.Equal(built.Options, loaded.Options);
        Assert.Equal((built.DataRoot, built.NextId, built.ManifestHash, built.FormatVersion),
                     (loaded.DataRoot, loaded.NextId, loaded.ManifestHash, loaded.FormatVersion));
        var carl = Assert.Single(loaded.ExcludedIdentities);
        Assert.Equal(("carl", 1), (carl.Identity, carl.UsableImages));
        Assert.Equal(built.ExcludedIdentities[0].Samples, carl.Samples);
    }

    [Fact]
    public void Touch_keeps_the_entry_content_change_of_the_same_size_is_detected()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        var first = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest;
        var original = first.Samples.Single(s => s.RelativePath == "alice/1.bmp");

        // Touch: new time, same bytes -> hashed again, not probed, entry kept with the new time.
        string touched = data.Combine("alice", "1.bmp");
        File.SetLastWriteTimeUtc(touched, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        var afterTouch = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options);
        Assert.Equal(ManifestAction.Updated, afterTouch.Action);
        Assert.Equal(new ManifestChanges(0, 0, 0, 1, 6, 1, 0), afterTouch.Changes);
        var kept = afterTouch.Manifest.Samples.Single(s => s.RelativePath == "alice/1.bmp");
        Assert.Equal(original with { MtimeUtcTicks = kept.MtimeUtcTicks }, kept);
        Assert.Equal(new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc).Ticks, kept.MtimeUtcTicks);
        Assert.Equal(first.ManifestHash, afterTouch.Manifest.ManifestHash);
        Assert.Equal(ManifestAction.Reused, ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Action);

        // New content of exactly the same size: detected, probed, same id, new hash.
        string changed = data.Combine("bob", "2.bmp");
        long size = new FileInfo(changed).Length;
        File.WriteAllBytes(changed, TestImages.FaceBytes(".bmp", 99));
        Assert.Equal(size, new FileInfo(changed).Length);
        File.SetLastWriteTimeUtc(changed, new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var afterChange = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options);
        Assert.Equal(ManifestAction.Updated, afterChange.Action);
        Assert.Equal((1, 1, 1, 0), (afterChange.Changes.Changed, afterChange.Changes.Hashed, afterChange.Changes.Probed, afterChange.Changes.Touched));
        var before = first.Samples.Single(s => s.RelativePath == "bob/2.bmp");
        var after = afterChange.Manifest.Samples.Single(s => s.RelativePath == "bob/2.bmp");
        Assert.Equal(before.Id, after.Id);
        Assert.NotEqual(before.ContentHash, after.ContentHash);
        Assert.NotEqual(first.ManifestHash, afterChange.Manifest.ManifestHash);
    }

    [Fact]
    public void Added_files_get_new_ids_and_ids_of_removed_files_are_never_reused()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        var first = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest;
        var ids = first.Samples.ToDictionary(s => s.RelativePath, s => s.Id);
        Assert.Equal(6, ids["bob/2.bmp"]);

        File.Delete(data.Combine("bob", "2.bmp"));     // the highest id
        File.Delete(data.Combine("alice", "0.bmp"));
        data.Write("alice/new.bmp", TestImages.FaceBytes(".bmp", 50));
        data.Write("alice/broken.bmp", []);
        var second = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options);
        Assert.Equal(ManifestAction.Updated, second.Action);
        Assert.Equal((2, 2, 2), (second.Changes.Added, second.Changes.Removed, second.Changes.Hashed));
        var now = second.Manifest.Samples.ToDictionary(s => s.RelativePath, s => s.Id);
        Assert.Equal(7, now["alice/new.bmp"]);
        foreach (var (path, id) in now)
            if (path != "alice/new.bmp") Assert.Equal(ids[path], id);
        Assert.Equal(8, second.Manifest.NextId);
        Assert.Contains(second.Manifest.Rejected, r => r.RelativePath == "alice/broken.bmp" && r.Reason == RejectReason.ZeroBytes);

        // Removing the newest file and adding another: 7 is not handed out again.
        File.Delete(data.Combine("alice", "new.bmp"));
        data.Write("alice/newer.bmp", TestImages.FaceBytes(".bmp", 51));
        var third = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest;
        Assert.Equal(8, third.Samples.Single(s => s.RelativePath == "alice/newer.bmp").Id);
        // The rejected file is not probed again while unchanged.
        Assert.Equal(ManifestAction.Reused, ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Action);
    }

    [Fact]
    public void A_first_scan_cut_off_resumes_without_hashing_again_the_files_it_had_examined()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        using var cut = new CancellationTokenSource();
        var stopAtFirstProgress = new CallbackLogger(line => { if (line.StartsWith("Scanning ", StringComparison.Ordinal)) cut.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => ManifestStore.LoadOrBuild(data.Path, runs.Path, Options, stopAtFirstProgress, cut.Token, progressEveryFiles: 3, progressInterval: TimeSpan.Zero));
        string partial = ManifestStore.PathFor(runs.Path) + ".partial";
        Assert.False(File.Exists(ManifestStore.PathFor(runs.Path)));
        Assert.True(File.Exists(partial));

        var resumed = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options);
        Assert.InRange(resumed.Changes.Hashed, 1, 7 - 3); // the three saved as examined are not hashed again
        Assert.Equal(7, resumed.Manifest.Samples.Count + resumed.Manifest.Rejected.Count + resumed.Manifest.ExcludedIdentities.Sum(e => e.Samples.Count));
        Assert.False(File.Exists(partial));
        Assert.Equal(resumed.Manifest.Samples.Count, resumed.Manifest.Samples.Select(s => s.Id).Distinct().Count());
    }

    private sealed class CallbackLogger(Action<string> onLine) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => onLine(formatter(state, exception));
    }

    [Fact]
    public void A_file_that_comes_back_after_scans_without_it_gets_its_own_id_again()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        int id = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest.Samples.Single(s => s.RelativePath == "alice/1.bmp").Id;

        // Quarantined by a move (the file leaves the data folder), two restarts rescan without it, then it is restored.
        string away = Path.Combine(runs.Path, "quarantined.bmp");
        File.Move(data.Combine("alice", "1.bmp"), away);
        var without = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest;
        Assert.DoesNotContain(without.Samples, s => s.RelativePath == "alice/1.bmp");
        data.Write("alice/other.bmp", TestImages.FaceBytes(".bmp", 60));
        ManifestStore.LoadOrBuild(data.Path, runs.Path, Options);
        File.Move(away, data.Combine("alice", "1.bmp"));
        var back = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest;
        Assert.Equal(id, back.Samples.Single(s => s.RelativePath == "alice/1.bmp").Id);
        Assert.Empty(back.RetiredIds);
        Assert.Equal(back.Samples.Count, back.Samples.Select(s => s.Id).Distinct().Count());
    }

    [Fact]
    public void Changed_options_a_moved_folder_or_a_damaged_manifest_rebuild_and_keep_ids()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        var first = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options).Manifest;
        var ids = first.Samples.ToDictionary(s => s.RelativePath, s => s.Id);

        var rebuilt = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options with { ValFraction = 0.5 });
        Assert.Equal(ManifestAction.Built, rebuilt.Action);
        Assert.Contains("options changed", rebuilt.RebuildReason);
        Assert.Equal(7, rebuilt.Changes.Probed);
        Assert.Equal(ids, rebuilt.Manifest.Samples.ToDictionary(s => s.RelativePath, s => s.Id));
        Assert.All(rebuilt.Manifest.Samples, s => Assert.Equal(FaceSplit.IsValidation(s.ContentHash, 0.5), s.IsValidation));

        string manifestPath = Path.Combine(runs.Path, "manifest.json");
        File.WriteAllText(manifestPath, "{ this is not json");
        var fromDamaged = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options);
        Assert.Equal(ManifestAction.Built, fromDamaged.Action);
        Assert.Contains("cannot be read", fromDamaged.RebuildReason);

        // Hand-edited content hash: the manifest hash no longer matches, so it is not trusted.
        File.WriteAllText(manifestPath, File.ReadAllText(manifestPath).Replace(first.Samples[0].ContentHash, new string('0', 64)));
        var fromEdited = ManifestStore.LoadOrBuild(data.Path, runs.Path, Options);
        Assert.Equal(ManifestAction.Built, fromEdited.Action);
        Assert.Contains("does not match", fromEdited.RebuildReason);
        Assert.Equal(first.ManifestHash, fromEdited.Manifest.ManifestHash);

        string moved = data.Path + "-moved";
        try
        {
            Directory.Move(data.Path, moved);
            var fromMoved = ManifestStore.LoadOrBuild(moved, runs.Path, Options);
            Assert.Equal(ManifestAction.Built, fromMoved.Action);
            Assert.Contains("data folder changed", fromMoved.RebuildReason);
            Assert.Equal(ids, fromMoved.Manifest.Samples.ToDictionary(s => s.RelativePath, s => s.Id));
        }
        finally
        {
            if (Directory.Exists(moved)) Directory.Move(moved, data.Path);
        }
    }

    [Fact]
    public void A_run_folder_inside_the_data_folder_is_refused()
    {
        using var data = new ScratchFolder();
        BuildSet(data);
        var e = Assert.Throws<FaceClusterException>(() => ManifestStore.LoadOrBuild(data.Path, data.Combine("alice", "run"), Options));
        Assert.Equal(ExitCodes.UsageError, e.ExitCode);
        Assert.Contains(data.Path, e.Message);
        Assert.False(Directory.Exists(data.Combine("alice", "run")));
    }

    [Fact]
    public void Manifest_hash_depends_on_ids_paths_identities_and_content()
    {
        var a = new FaceSample(0, "x/1.png", "x", new string('a', 64), 10, 1, 32, 32, false);
        var b = new FaceSample(1, "y/1.png", "y", new string('b', 64), 10, 1, 32, 32, true);
        string h = FaceManifest.ComputeHash([a, b]);
        Assert.Equal(h, FaceManifest.ComputeHash([b, a]));
        Assert.Equal(h, FaceManifest.ComputeHash([a with { MtimeUtcTicks = 5, SizeBytes = 3 }, b]));
        Assert.NotEqual(h, FaceManifest.ComputeHash([a with { Id = 2 }, b]));
        Assert.NotEqual(h, FaceManifest.ComputeHash([a with { RelativePath = "x/2.png" }, b]));
        Assert.NotEqual(h, FaceManifest.ComputeHash([a with { Identity = "z" }, b]));
        Assert.NotEqual(h, FaceManifest.ComputeHash([a with { ContentHash = new string('c', 64) }, b]));
    }
}
