using FaceCluster.Cli;

namespace FaceCluster.Tests.DataPlane;

/// <summary>`facecluster bench allreduce` runs end to end on a tiny size and rejects bad flags with one clear line.</summary>
[Trait("Tier", "unit")]
public class BenchAllReduceCommandTests
{
    [Fact]
    public void A_tiny_run_reports_bus_bandwidth_against_both_baselines()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "allreduce", "--size-mb", "1", "--workers", "2,3", "--iterations", "2", "--warmup", "1", "--segment-kb", "64"], stdout, stderr);
        string text = stdout.ToString();
        Assert.True(code == ExitCodes.Ok, stderr.ToString() + text);
        Assert.Contains("raw single-stream TCP copy", text);
        Assert.Contains("busbw/raw", text);
        Assert.Contains("sent/min", text);
        string[] rows = text.Split('\n').Where(l => l.StartsWith(" 2 |") || l.StartsWith(" 3 |")).ToArray();
        Assert.Equal(2, rows.Length);
        // Bytes sent per worker: the ring minimum plus one 40-byte header per 64 KiB segment.
        foreach (string row in rows)
        {
            double ratio = double.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(ratio, 1.0, 1.01);
        }
    }

    [Theory]
    [InlineData("--workers", "1", "--workers")]
    [InlineData("--workers", "2,four", "'four'")]
    [InlineData("--size-mb", "0", "--size-mb")]
    [InlineData("--segment-kb", "0", "--segment-kb")]
    public void Bad_flags_are_usage_errors_that_name_the_flag(string flag, string value, string named)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "allreduce", flag, value], stdout, stderr);
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.StartsWith("error: ", stderr.ToString());
        Assert.Contains(named, stderr.ToString());
        Assert.Single(stderr.ToString().Trim().Split('\n'));
    }
}
