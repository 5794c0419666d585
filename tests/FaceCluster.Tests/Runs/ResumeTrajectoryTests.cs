using FaceCluster.Common.IO;
using FaceCluster.Cli;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Synth;

namespace FaceCluster.Tests.Runs;

/// <summary>A run stopped and resumed from its checkpoint trains as if it had never stopped (fixed seeds, CPU).</summary>
[Trait("Tier", "integration")]
public sealed class ResumeTrajectoryTests
{
    private static void Train(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["train", .. args], stdout, stderr);
        Assert.True(code == 0, stdout.ToString() + stderr);
    }

    private static double[] StepLosses(string run)
    {
        using var ledger = LedgerEngine.OpenReadOnly(run);
        var curve = Assert.IsType<LossCurves>(ledger.Handle(new GetLossCurves(1000))).Global;
        Assert.Equal(curve.Steps.Length, curve.Steps.Distinct().Count());
        return curve.MeanLoss;
    }

    [Fact]
    public void The_loss_trajectory_of_a_resumed_run_matches_the_uninterrupted_one()
    {
        using var temp = new ScratchFolder("fc-resume");
        string data = temp.Combine("faces");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 8, Size = 32, Seed = 11 });
        string[] Common(string run) => ["--data", data, "--run", run, "--workers", "1", "--threads", "1", "--steps-per-cycle", "5", "--batch", "8", "--seed", "3"];

        string whole = temp.Combine("whole"), parts = temp.Combine("parts");
        Train([.. Common(whole), "--cycles", "4"]);
        Train([.. Common(parts), "--cycles", "2"]);
        Train([.. Common(parts), "--cycles", "4", "--resume"]);

        var a = StepLosses(whole);
        var b = StepLosses(parts);
        Assert.Equal(20, a.Length);
        Assert.Equal(20, b.Length);
        // One worker of one thread: the same samples, augmentations and arithmetic every run, so "within noise" can
        // be tight. (With several workers the batch split follows measured speed, and the samples drawn differ.)
        string trace = string.Join(", ", a.Zip(b).Select(p => $"{p.First:F5}/{p.Second:F5}"));
        for (int i = 0; i < 20; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-3 * a[i], $"step {i}: uninterrupted {a[i]:G6}, resumed {b[i]:G6} ({trace})");
        Assert.True(a[^1] < a[0], "the loss should fall over 20 steps");
    }
}
