using System.Text.RegularExpressions;
using FaceCluster.Common.IO;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.Runs;

/// <summary>A run with gradients on the wire as bf16, its step timeline logged at debug level.</summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public sealed class WireTimelineTests
{
    [Fact]
    public async Task A_bf16_run_trains_to_the_end_and_debug_logs_each_step_s_timeline()
    {
        using var temp = new ScratchFolder("fc-wire");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 6);
        using var run = new FaceClusterProcess("train", temp.Path, "train", "--data", faces, "--run", temp.Combine("run"), "--workers", "2",
            "--cycles", "2", "--steps-per-cycle", "3", "--batch", "8", "--wire", "bf16", "--overlap", "on", "--log-level", "debug");
        Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(180)));
        Assert.Contains("Done: step 6", run.Output);
        // Both workers, every step: wait, forward+backward, copy to host, all-reduce on the bf16 wire.
        var lines = Regex.Matches(run.Output, @"Worker (\S+) step (\d+) timeline: data wait [\d.]+ ms \| forward\+backward [\d.]+ ms \| copy to host [\d.]+ ms \| all-reduce [\d.]+ ms \(bf16, update of the owned range [\d.]+ ms inside\)");
        Assert.Equal(12, lines.Count);
        Assert.Equal(2, lines.Select(m => m.Groups[1].Value).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 6).Select(i => i.ToString()), lines.Select(m => m.Groups[2].Value).Distinct().Order());
        // The all-reduce ran bucket by bucket beside backward: the decoders' gradients first, then the encoder's.
        Assert.Equal(12, Regex.Matches(run.Output, @"\| buckets decoders [\d,.\u00a0\u202f ]+ then encoder [\d,.\u00a0\u202f ]+ \(overlapped\): [\d.]+ ms reducing, [\d.]+ ms of it during backward, [\d.]+ ms waited after").Count);

        using var wrong = new FaceClusterProcess("train", temp.Path, "train", "--data", faces, "--run", temp.Combine("run2"), "--wire", "fp16");
        Assert.NotEqual(0, await wrong.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--wire takes fp32 or bf16, not 'fp16'", wrong.Output);

        using var wrongOverlap = new FaceClusterProcess("train", temp.Path, "train", "--data", faces, "--run", temp.Combine("run3"), "--overlap", "maybe");
        Assert.NotEqual(0, await wrongOverlap.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--overlap 'maybe' is not a setting: use auto, on or off", wrongOverlap.Output);
    }
}
