using FaceCluster.Common.IO;
using System.Text.RegularExpressions;
using FaceCluster.Cli;
using FaceCluster.Synth;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "integration")]
public sealed class BenchScalingCommandTests
{
    // One round: every figure of a round and the medians' printing are checked the same with one as with two, and each
    // round costs this 2-core suite over a minute (seven FaceCluster runs and two of the peer).
    private const int Rounds = 1;

    [Fact]
    public void Prints_each_rounds_rates_and_the_median_ratios()
    {
        using var temp = new ScratchFolder("fc-bench-scaling");
        string data = temp.Combine("faces");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 6, Size = 32, Seed = 9 });
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "scaling", "--data", data, "--steps", "5", "--batch", "8", "--rounds", Rounds.ToString(CultureInfo.InvariantCulture)], stdout, stderr);
        string output = stdout.ToString();
        Assert.True(code == 0, output + stderr);
        var rounds = Regex.Matches(output, @"round \d: 1 worker\s+(\d+\.\d) samples/s \(batch 8\); 2 workers\s+(\d+\.\d) \(batch 8 each, global 16; --overlap auto: (on|off)\) and\s+(\d+\.\d) \(global batch 8, about 4 each\): (\d+\.\d+)x weak, (\d+\.\d+)x strong; weak with --overlap on\s+(\d+\.\d), off\s+(\d+\.\d): on / off (\d+\.\d+)");
        Assert.True(rounds.Count == Rounds, output);
        var weakRatios = new List<double>();
        var strongRatios = new List<double>();
        var overlapRatios = new List<double>();
        foreach (Match m in rounds)
        {
            double[] v = new[] { 1, 2, 4, 5, 6 }.Select(i => double.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture)).ToArray();
            double on = double.Parse(m.Groups[7].Value, CultureInfo.InvariantCulture), off = double.Parse(m.Groups[8].Value, CultureInfo.InvariantCulture);
            // The weak figure is the run of the setting auto picks, measured both ways in the round.
            Assert.Equal(m.Groups[3].Value == "on" ? on : off, v[1]);
            double onOff = double.Parse(m.Groups[9].Value, CultureInfo.InvariantCulture);
            Assert.InRange(onOff, on / off * 0.99 - 0.005, on / off * 1.01 + 0.005);
            overlapRatios.Add(onOff);
            Assert.True(v[0] > 0 && v[1] > 0 && v[2] > 0, output);
            // The printed ratios are of the unrounded rates: within 1% (and the 2-decimal rounding) of the printed ones.
            Assert.InRange(v[3], v[1] / v[0] * 0.99 - 0.005, v[1] / v[0] * 1.01 + 0.005);
            Assert.InRange(v[4], v[2] / v[0] * 0.99 - 0.005, v[2] / v[0] * 1.01 + 0.005);
            weakRatios.Add(v[3]);
            strongRatios.Add(v[4]);
        }
        double weakMedian = Number(output, $@"\nscaling 2 workers / 1 worker: (\d+\.\d+)x \(weak scaling, median of {Rounds} round\(s\)");
        double strongMedian = Number(output, $@"strong scaling 2 workers / 1 worker: (\d+\.\d+)x \(the same global batch split 2 ways, median of {Rounds} round\(s\)");
        Assert.Contains(weakMedian, weakRatios);
        Assert.Contains(strongMedian, strongRatios);
        Assert.Contains(Number(output, @"--overlap on / off \(2 workers, weak\): (\d+\.\d+)x"), overlapRatios);

        // The peer, PyTorch DDP on the same layout, in the same rounds; or, where python3-torch is missing, why not.
        var peerRounds = Regex.Matches(output, @"round \d: peer PyTorch DDP: 1 process\s+(\d+\.\d) samples/s; 2 processes\s+(\d+\.\d): (\d+\.\d+)x weak; FaceCluster / peer (\d+\.\d+)");
        if (output.Contains("peer: PyTorch DDP cannot run here:", StringComparison.Ordinal))
        {
            Assert.Empty(peerRounds);
            Assert.DoesNotContain("FaceCluster weak scaling / peer's", output);
            return;
        }
        Assert.Matches(@"peer: PyTorch DDP \(gloo, CPU\), the same layout \([\d,]+ parameters, 3 decoders\)", output);
        Assert.True(peerRounds.Count == Rounds, output);
        for (int r = 0; r < Rounds; r++)
        {
            double[] v = Enumerable.Range(1, 4).Select(i => double.Parse(peerRounds[r].Groups[i].Value, CultureInfo.InvariantCulture)).ToArray();
            Assert.InRange(v[2], v[1] / v[0] * 0.99 - 0.005, v[1] / v[0] * 1.01 + 0.005);
            Assert.InRange(v[3], weakRatios[r] / v[2] * 0.98 - 0.01, weakRatios[r] / v[2] * 1.02 + 0.01);
        }
        Assert.Matches(@"FaceCluster weak scaling / peer's: \d+\.\d\d \(median of the rounds' ratios", output);
    }

    [Fact]
    public void Zero_rounds_are_refused_by_name()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, CliApp.Run(["bench", "scaling", "--rounds", "0"], new StringWriter(), stderr));
        Assert.Contains("--rounds must be at least 1, got 0", stderr.ToString());
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
