using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Text.RegularExpressions;
using FaceCluster.Cli;
using FaceCluster.Synth;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "integration")]
// Their in-process runs build seeded replicas, drawing from libtorch's global generator (see TorchRngCollection).
[Collection(TorchRngCollection.Name)]
public sealed class BenchTrainCommandTests
{
    [Fact]
    public void Prints_both_rates_their_ratio_and_memory_over_the_steps()
    {
        using var temp = new ScratchFolder("fc-bench-train");
        string data = temp.Combine("faces");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 6, Size = 32, Seed = 9 });
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "train", "--data", data, "--steps", "6", "--rounds", "2", "--batch", "4", "--threads", "1", "--memory-steps", "40"], stdout, stderr);
        string output = stdout.ToString();
        Assert.True(code == 0, output + stderr);
        double plain = Rate(output, @"plain TorchSharp loop:\s+(\d+\.\d)");
        double fc = Rate(output, @"FaceCluster step \(1 worker\):\s+(\d+\.\d)");
        double ratio = Rate(output, @"ratio FaceCluster / plain loop: (\d+\.\d+)");
        Assert.True(plain > 0 && fc > 0, output);
        // The printed ratio is of the unrounded rates: within 1% of the ratio of the printed (rounded) ones.
        Assert.InRange(ratio / (fc / plain), 0.99, 1.01);
        Assert.Equal(2, Regex.Matches(output, @"round \d: plain loop\s+\d+\.\d samples/s, FaceCluster\s+\d+\.\d samples/s, ratio \d+\.\d{3}").Count);
        Assert.Matches(@"memory over 40 replica steps \(batch 4\): \d+\.\d MiB after 40 steps, \d+\.\d MiB at the end", output);

        // The peer, PyTorch eager on the same layout, in the same rounds (where python3 has torch; else said why).
        var peerRounds = Regex.Matches(output, @"round \d: plain loop\s+\d+\.\d samples/s, FaceCluster\s+(\d+\.\d) samples/s, ratio \d+\.\d{3}, PyTorch eager\s+(\d+\.\d) samples/s, FaceCluster / PyTorch (\d+\.\d{3})");
        if (output.Contains("peer: PyTorch eager cannot run here:", StringComparison.Ordinal))
        {
            Assert.Empty(peerRounds);
            Assert.DoesNotContain("ratio FaceCluster / PyTorch eager", output);
            return;
        }
        Assert.Matches(@"peer: PyTorch eager \(cpu\), the same layout \([\d,]+ parameters\), batch 4, 1 thread\(s\)", output);
        Assert.Equal(2, peerRounds.Count);
        var peerRatios = new List<double>();
        foreach (Match m in peerRounds)
        {
            double[] v = Enumerable.Range(1, 3).Select(i => double.Parse(m.Groups[i].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.True(v[1] > 0, output);
            Assert.InRange(v[2], v[0] / v[1] * 0.99 - 0.001, v[0] / v[1] * 1.01 + 0.001);
            peerRatios.Add(v[2]);
        }
        Assert.Contains(Rate(output, @"ratio FaceCluster / PyTorch eager: (\d+\.\d+) \(median of 2 round"), peerRatios);
    }

    [Fact]
    public void Bad_values_are_refused_by_name()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, CliApp.Run(["bench", "train", "--steps", "0"], new StringWriter(), stderr));
        Assert.Contains("--steps", stderr.ToString());
        stderr = new StringWriter();
        Assert.Equal(2, CliApp.Run(["bench", "train", "--rounds", "0"], new StringWriter(), stderr));
        Assert.Contains("--rounds", stderr.ToString());
        stderr = new StringWriter();
        Assert.Equal(2, CliApp.Run(["bench", "train", "--device", "mps"], new StringWriter(), stderr));
        Assert.Contains("--device 'mps': bench train runs on cpu or cuda[:N]", stderr.ToString());
    }

    private static double Rate(string output, string pattern)
    {
        var m = Regex.Match(output, pattern);
        Assert.True(m.Success, $"no match for {pattern} in:\n{output}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
