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
        double weak = Number(output, @"2 workers x 1 thread:\s+(\d+\.\d) samples/s \(batch 8 each, global 16\)");
        double strong = Number(output, @"2 workers x 1 thread:\s+(\d+\.\d) samples/s \(global batch 8, about 4 each\)");
        double weakRatio = Number(output, @"\nscaling 2 workers / 1 worker: (\d+\.\d+)x \(weak scaling");
        double strongRatio = Number(output, @"strong scaling 2 workers / 1 worker: (\d+\.\d+)x");
        Assert.True(one > 0 && weak > 0 && strong > 0, output);
        // The printed ratios are of the unrounded rates: within 1% of the ratios of the printed (rounded) ones.
        Assert.InRange(weakRatio / (weak / one), 0.99, 1.01);
        Assert.InRange(strongRatio / (strong / one), 0.99, 1.01);
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
