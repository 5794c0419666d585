using FaceCluster.Common.FaceSet;
using FaceCluster.Common.IO;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.FaceSet;

/// <summary>The pixel budget: images are measured by what their headers declare, and refused before they are decoded.</summary>
public class ImageBudgetTests
{
    [Theory]
    [InlineData(".png")]
    [InlineData(".jpg")]
    [InlineData(".bmp")]
    [InlineData(".pgm")]
    [InlineData(".webp")]
    public void Every_format_declares_its_size_in_its_header(string extension)
    {
        using var face = TestImages.Face(72, 40, 3);
        var structure = ImageStructure.Inspect(TestImages.Encode(face, extension));
        Assert.Null(structure.Problem);
        Assert.Equal((72, 40), (structure.DeclaredWidth, structure.DeclaredHeight));
    }

    [Fact]
    public void An_image_over_the_budget_is_refused_by_its_header_and_one_within_it_is_decoded()
    {
        using var face = TestImages.Face(100, 80, 1);
        byte[] png = TestImages.Encode(face, ".png");
        var refused = FaceImageProbe.Probe(png, maxPixels: 7_999);
        Assert.Equal(RejectReason.TooLarge, refused.Reject);
        Assert.Contains("100x80", refused.Detail);
        Assert.Contains("--max-megapixels", refused.Detail);
        Assert.True(FaceImageProbe.Probe(png, maxPixels: 8_000).IsUsable);
    }

    [Fact]
    public void A_file_larger_than_the_budget_allows_is_refused_before_it_is_read()
    {
        using var dir = new ScratchFolder("fc-budget");
        string path = dir.Write("big.png", new byte[3_000_000]);
        var result = FaceImageProbe.ProbeFile(path, budget: ScanOptions.Default with { MaxMegapixels = 0.2 });
        Assert.Equal(RejectReason.TooLarge, result.Reject);
        Assert.Contains("3.0 MB", result.Detail);
    }

    [Fact]
    public async Task A_planted_32767_square_png_is_refused_by_name_and_the_scan_stays_under_1_GB()
    {
        using var dir = new ScratchFolder("fc-bomb");
        string faces = ClusterFixtures.TinyFaceSet(dir.Combine("faces"), perIdentity: 4);
        string bombName = Path.Combine(Directory.GetDirectories(faces).Order(StringComparer.Ordinal).First(), "zz-bomb.png");
        File.WriteAllBytes(bombName, TestImages.BombPng(32767));
        Assert.InRange(new FileInfo(bombName).Length, 1_000_000, 50_000_000); // about 3.2 GB once decoded

        using var scan = new FaceClusterProcess("scan", dir.Path, "scan", "--data", faces, "--run", dir.Combine("run"));
        long peak = 0;
        while (!scan.HasExited)
        {
            peak = Math.Max(peak, PeakBytes(scan.Pid));
            await Task.Delay(20);
        }
        Assert.Equal(0, await scan.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("zz-bomb.png", scan.Output);
        Assert.Contains("over the pixel budget", scan.Output);
        Assert.True(peak > 0, "the scan's memory was never measured");
        Assert.True(peak < 1_000_000_000, $"the scan's peak resident memory was {peak / 1e6:F0} MB");
        var manifest = ManifestStore.TryLoad(ManifestStore.PathFor(dir.Combine("run")), out _)!;
        Assert.DoesNotContain(manifest.Samples, s => s.RelativePath.EndsWith("zz-bomb.png", StringComparison.Ordinal));
        Assert.Contains(manifest.Rejected, r => r.RelativePath.EndsWith("zz-bomb.png", StringComparison.Ordinal) && r.Reason == RejectReason.TooLarge);
    }

    /// <summary>VmHWM of a process (its peak resident memory so far), 0 once it is gone.</summary>
    private static long PeakBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return 0;
    }
}
