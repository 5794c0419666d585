using FaceCluster.Common.IO;
using System.Text.RegularExpressions;
using FaceCluster.Cli;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "integration")]
public sealed class BenchCurationCommandTests
{
    [Fact]
    public void A_tiny_curation_bench_trains_both_ways_and_compares_held_out_loss()
    {
        using var temp = new ScratchFolder("fc-bench-curation");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "curation", "--out", temp.Path, "--cycles", "1", "--steps-per-cycle", "3", "--batch", "8",
            "--identities", "3", "--per-identity", "8", "--holdout-per-identity", "2", "--warmup-steps", "0"], stdout, stderr);
        string output = stdout.ToString();
        Assert.True(code == 0, output + stderr);
        Assert.Contains("held-out clean faces: 6 images of 3 identities", output);
        var losses = Regex.Matches(output, @"^\s+(off|auto)\s+\d+\s+(\d+\.\d+)\s*$", RegexOptions.Multiline);
        Assert.Equal(2, losses.Count);
        double off = double.Parse(losses[0].Groups[2].Value, CultureInfo.InvariantCulture);
        double auto = double.Parse(losses[1].Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.InRange(off, 1e-4, 1.0);
        Assert.InRange(auto, 1e-4, 1.0);
        var ratio = Regex.Match(output, @"curation auto / off held-out loss: (\d+\.\d+)");
        Assert.True(ratio.Success, output);
        Assert.Equal(auto / off, double.Parse(ratio.Groups[1].Value, CultureInfo.InvariantCulture), 2);
    }

    [Fact]
    public void Without_held_out_faces_there_is_nothing_to_compare()
    {
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "curation", "--holdout-per-identity", "0"], new StringWriter(), stderr);
        Assert.Equal(2, code);
        Assert.Contains("--holdout-per-identity", stderr.ToString());
    }
}
