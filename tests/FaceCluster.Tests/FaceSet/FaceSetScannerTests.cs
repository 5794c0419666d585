using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Common.FaceSet;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class FaceSetScannerTests
{
    /// <summary>
    /// alice: 4 good images (two with upper-case extensions, one in a sub-folder) and one of every bad kind;
    /// bob: 2 good images (below min-images 3); carol: 3 good; files and hidden entries at the top level.
    /// </summary>
    private static void BuildMessySet(ScratchFolder d)
    {
        d.Write("alice/a1.jpg", TestImages.FaceBytes(".jpg", 1));
        d.Write("alice/a2.PNG", TestImages.FaceBytes(".png", 2));
        d.Write("alice/a3.JPEG", TestImages.FaceBytes(".jpg", 3));
        d.Write("alice/more/a4.bmp", TestImages.FaceBytes(".bmp", 4));
        d.Write("alice/zero.jpg", []);
        d.Write("alice/text.png", "not a picture at all"u8.ToArray());
        var jpg = TestImages.FaceBytes(".jpg", 5);
        d.Write("alice/cut.jpg", jpg[..(jpg.Length - 30)]);
        var png = TestImages.FaceBytes(".png", 6);
        d.Write("alice/cut.png", png[..^12]);
        d.Write("alice/tiny.png", TestImages.FaceBytes(".png", 7, width: 10, height: 10));
        d.Write("alice/graya.png", TestImages.GrayAlphaPng(32, 32));
        d.Write("alice/notes.txt", "about alice"u8.ToArray());
        d.Write("alice/.hidden.jpg", []);
        d.Write("bob/b1.webp", TestImages.FaceBytes(".webp", 8));
        d.Write("bob/b2.pgm", TestImages.FaceBytes(".pgm", 9));
        d.Write("carol/c1.jpg", TestImages.FaceBytes(".jpg", 10));
        d.Write("carol/c2.jpg", TestImages.FaceBytes(".jpg", 11));
        d.Write("carol/c3.jpg", TestImages.FaceBytes(".jpg", 12));
        d.Write("readme.txt", "top-level file"u8.ToArray());
        d.Write("stray.jpg", TestImages.FaceBytes(".jpg", 13));
        d.Write(".DS_Store", [1, 2, 3]);
        d.Write(".cache/x.jpg", TestImages.FaceBytes(".jpg", 14));
        File.CreateSymbolicLink(d.Combine("alice", "loop"), "..");
        File.CreateSymbolicLink(d.Combine("carol", "to-alice"), Path.Combine("..", "alice"));
        File.CreateSymbolicLink(d.Combine("carol", "broken.jpg"), "does-not-exist.jpg");
    }

    [Fact]
    public async Task A_named_pipe_or_a_link_to_a_device_is_refused_by_name_and_does_not_hang_the_scan()
    {
        if (!OperatingSystem.IsLinux()) return; // mkfifo and /dev/zero
        using var d = new ScratchFolder();
        for (int i = 0; i < 3; i++) d.Write($"alice/a{i}.png", TestImages.FaceBytes(".png", i));
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", [d.Combine("alice/pipe.png")])!;
        await mkfifo.WaitForExitAsync();
        Assert.Equal(0, mkfifo.ExitCode);
        File.CreateSymbolicLink(d.Combine("alice/zeros.jpg"), "/dev/zero");

        var options = new ScanOptions(MinImages: 1, ValFraction: 0, MinSide: 16);
        // Before the fix the pipe blocked the scan for ever and /dev/zero was read until memory ran out.
        var scan = await Task.Run(() => new FaceSetScanner(options).Scan(FaceSetScanner.List(d.Path)).Manifest).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(3, scan.Samples.Count);
        var pipe = Assert.Single(scan.Rejected, r => r.RelativePath == "alice/pipe.png");
        Assert.Equal(RejectReason.Unreadable, pipe.Reason);
        Assert.Contains("not a regular file", pipe.Detail);
        var zeros = Assert.Single(scan.Rejected, r => r.RelativePath == "alice/zeros.jpg");
        Assert.Equal(RejectReason.TooLarge, zeros.Reason);
    }

    [Fact]
    public void Scan_reports_every_kind_of_bad_file_and_uses_the_rest()
    {
        using var d = new ScratchFolder();
        BuildMessySet(d);
        var result = new FaceSetScanner(new ScanOptions(MinImages: 3, ValFraction: 0.2, MinSide: 16)).Scan(d.Path);
        var report = result.Report;

        var rejects = report.Rejected.Select(r => $"{r.RelativePath}={r.Reason}").ToList();
        Assert.Equal(
        [
            "alice/cut.jpg=Truncated",
            "alice/cut.png=Truncated",
            "alice/graya.png=UnsupportedDepth",
            "alice/text.png=NotAnImage",
            "alice/tiny.png=TooSmall",
            "alice/zero.jpg=ZeroBytes",
            "carol/broken.jpg=Unreadable",
        ], rejects);
        Assert.All(report.Rejected, r => Assert.False(string.IsNullOrEmpty(r.Detail)));

        Assert.Equal(["alice", "carol"], report.Identities.Select(i => i.Identity));
        Assert.Equal(4, report.Identities[0].Images);
        Assert.Contains(result.Manifest.Samples, s => s.RelativePath == "alice/a2.PNG");
        Assert.Contains(result.Manifest.Samples, s => s.RelativePath == "alice/more/a4.bmp");
        Assert.Equal(3, report.Identities[1].Images);

        var bob = Assert.Single(report.ExcludedIdentities);
        Assert.Equal(("bob", 2), (bob.Identity, bob.UsableImages));
        Assert.DoesNotContain(result.Manifest.Samples, s => s.Identity == "bob");

        Assert.Equal(["readme.txt", "stray.jpg"], report.OutsideFiles);
        Assert.Equal(["alice/notes.txt"], report.IgnoredFiles);
        var skipped = report.SkippedDirectories.Select(s => s.RelativePath).ToList();
        Assert.Equal(["alice/loop", "carol/to-alice"], skipped);
        Assert.All(report.SkippedDirectories, s => Assert.Contains("loop", s.Reason));
        // Hidden files and folders are skipped silently.
        Assert.DoesNotContain(report.Rejected, r => r.RelativePath.Contains("hidden") || r.RelativePath.Contains(".cache"));
        Assert.DoesNotContain(".DS_Store", report.OutsideFiles);

        // Every usable sample has an id, dimensions and a SHA-256.
        Assert.Equal(result.Manifest.Samples.Count, result.Manifest.Samples.Select(s => s.Id).Distinct().Count());
        Assert.All(result.Manifest.Samples, s => Assert.Matches("^[0-9a-f]{64}$", s.ContentHash));
        Assert.All(result.Manifest.Samples, s => Assert.Equal((48, 48), (s.Width, s.Height)));
    }

    [Fact]
    public void Unreadable_files_and_folders_are_reported_when_permissions_apply()
    {
        using var d = new ScratchFolder();
        for (int i = 0; i < 3; i++) d.Write($"alice/{i}.png", TestImages.FaceBytes(".png", i));
        d.Write("alice/locked.png", TestImages.FaceBytes(".png", 9));
        d.Write("alice/sealed/x.png", TestImages.FaceBytes(".png", 10));
        File.CreateSymbolicLink(d.Combine("alice", "dangling.png"), "nowhere.png");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(d.Combine("alice", "locked.png"), UnixFileMode.None);
            File.SetUnixFileMode(d.Combine("alice", "sealed"), UnixFileMode.None);
        }
        var report = new FaceSetScanner(ScanOptions.Default).Scan(d.Path).Report;

        Assert.Contains(report.Rejected, r => r.RelativePath == "alice/dangling.png" && r.Reason == RejectReason.Unreadable);
        if (TestEnvironment.IsRoot || OperatingSystem.IsWindows())
        {
            // Root reads whatever the mode says: both are used.
            Assert.Equal(5, report.Identities.Single().Images);
            return;
        }
        Assert.Contains(report.Rejected, r => r.RelativePath == "alice/locked.png" && r.Reason == RejectReason.Unreadable);
        Assert.Contains(report.SkippedDirectories, s => s.RelativePath == "alice/sealed");
        Assert.Equal(3, report.Identities.Single().Images);
    }

    [Fact]
    public void A_missing_empty_file_or_identity_less_folder_is_an_error_naming_the_path()
    {
        using var d = new ScratchFolder();
        var scanner = new FaceSetScanner(ScanOptions.Default);

        string missing = d.Combine("nope");
        var e1 = Assert.Throws<FaceClusterException>(() => scanner.Scan(missing));
        Assert.Contains(missing, e1.Message);
        Assert.Contains("does not exist", e1.Message);

        string empty = d.Combine("empty");
        Directory.CreateDirectory(empty);
        var e2 = Assert.Throws<FaceClusterException>(() => scanner.Scan(empty));
        Assert.Contains(empty, e2.Message);
        Assert.Contains("empty", e2.Message);

        string flat = d.Combine("flat");
        d.Write("flat/a.jpg", TestImages.FaceBytes(".jpg", 1));
        var e3 = Assert.Throws<FaceClusterException>(() => scanner.Scan(flat));
        Assert.Contains(flat, e3.Message);
        Assert.Contains("no identity folders", e3.Message);

        string file = d.Write("file.jpg", TestImages.FaceBytes(".jpg", 1));
        var e4 = Assert.Throws<FaceClusterException>(() => scanner.Scan(file));
        Assert.Contains(file, e4.Message);
        Assert.Contains("is a file", e4.Message);
    }

    [Theory]
    [InlineData(0, 0.1, 16, "--min-images 0")]
    [InlineData(3, 1.0, 16, "--val-fraction 1")]
    [InlineData(3, -0.1, 16, "--val-fraction -0.1")]
    [InlineData(3, double.NaN, 16, "--val-fraction NaN")]
    [InlineData(3, 0.1, 0, "--min-side 0")]
    public void Bad_option_values_are_usage_errors_naming_flag_and_value(int minImages, double valFraction, int minSide, string expected)
    {
        var e = Assert.Throws<FaceClusterException>(() => new ScanOptions(minImages, valFraction, minSide).Validate());
        Assert.Equal(ExitCodes.UsageError, e.ExitCode);
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Listing_survives_a_loop_of_links_and_a_self_link()
    {
        using var d = new ScratchFolder();
        for (int i = 0; i < 3; i++) d.Write($"alice/{i}.jpg", TestImages.FaceBytes(".jpg", i));
        File.CreateSymbolicLink(d.Combine("alice", "a"), "b");
        File.CreateSymbolicLink(d.Combine("alice", "b"), "a");
        File.CreateSymbolicLink(d.Combine("alice", "self"), ".");
        Directory.CreateDirectory(d.Combine("alice", "deep"));
        File.CreateSymbolicLink(d.Combine("alice", "deep", "up"), Path.Combine("..", ".."));
        var listing = FaceSetScanner.List(d.Path);
        Assert.Equal(3, listing.Files.Count);
        Assert.Contains(listing.SkippedDirectories, s => s.RelativePath == "alice/self");
        Assert.Contains(listing.SkippedDirectories, s => s.RelativePath == "alice/deep/up");
        // a <-> b point at each other: they are neither folders nor files that can be opened.
        var result = new FaceSetScanner(ScanOptions.Default).Scan(listing);
        Assert.Equal(3, result.Report.Identities.Single().Images);
    }

    [Fact]
    public void Same_content_under_different_names_lands_on_the_same_side_of_the_split()
    {
        using var d = new ScratchFolder();
        for (int i = 0; i < 40; i++)
        {
            var bytes = TestImages.FaceBytes(".png", 100 + i);
            d.Write($"alice/{i}.png", bytes);
            d.Write($"bob/copy-of-{i}.png", bytes);
        }
        var samples = new FaceSetScanner(new ScanOptions(ValFraction: 0.3)).Scan(d.Path).Manifest.Samples;
        var byHash = samples.GroupBy(s => s.ContentHash).ToList();
        Assert.Equal(40, byHash.Count);
        Assert.All(byHash, g => Assert.Single(g.Select(s => s.IsValidation).Distinct()));
        Assert.Contains(samples, s => s.IsValidation);
        Assert.Contains(samples, s => !s.IsValidation);
        Assert.All(samples, s => Assert.Equal(FaceSplit.IsValidation(s.ContentHash, 0.3), s.IsValidation));
    }
}
