using System.Globalization;
using System.Text.RegularExpressions;
using FaceCluster.Common.FaceSet.Synth;
using FaceCluster.Coordinator.Cli;
using FaceCluster.Tests.FaceSet;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "integration")]
public sealed class BenchScalingCommandTests
{
    [Fact]
    public void Prints_one_worker_and_two_worker_rates_and_their_ratio()
    {
        using var temp = new TempFolder("fc-bench-scaling");
        string data = temp.Combine("faces");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 6, Size = 32, Seed = 9 });
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "scaling", "--data", data, "--steps", "5", "--batch", "8"], stdout, stderr);
        string output = stdout.ToString();
        Assert.True(code == 0, output + stderr);
        double one = Number(output, @"1 worker  x 1 thread:\s+(\d+\.\d)");
        double two = Number(output, @"2 workers x 1 thread:\s+(\d+\.\d)");
        double ratio = Number(output, @"scaling 2 workers / 1 worker: (\d+\.\d+)x");
        Assert.True(one > 0 && two > 0, output);
        // The printed ratio is of the unrounded rates: within 1% of the ratio of the printed (rounded) ones.
        Assert.InRange(ratio / (two / one), 0.99, 1.01);
    }

    [Fact]
    public void One_worker_is_not_a_comparison()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, CliApp.Run(["bench", "scaling", "--workers", "1"], new StringWriter(), stderr));
        Assert.Contains("--workers", stderr.ToString());
    }

    private static double Number(string output, string pattern)
    {
        var m = Regex.Match(output, pattern);
        Assert.True(m.Success, $"no match for {pattern} in:\n{output}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
