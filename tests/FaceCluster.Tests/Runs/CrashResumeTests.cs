using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Coordinator.Runs;
using FaceCluster.Synth;
using static FaceCluster.Tests.Support.CliRunner;

namespace FaceCluster.Tests.Runs;

/// <summary>
/// Crashes of a whole run (coordinator and workers in one process, SIGKILLed while it writes a checkpoint every
/// step) and what a restart with --resume recovers.
/// </summary>
[Trait("Tier", "integration")]
// Their in-process runs build seeded replicas, drawing from libtorch's global generator (see TorchRngCollection).
[Collection(TorchRngCollection.Name)]
public sealed class CrashResumeTests
{
    [Fact]
    public void A_run_killed_while_checkpointing_resumes_from_a_valid_checkpoint_losing_at_most_one_cycle()
    {
        using var temp = new ScratchFolder("fc-crash");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 8, Size = 32, Seed = 7 });
        string[] common = ["--data", data, "--run", run, "--workers", "2", "--steps-per-cycle", "1", "--batch", "4", "--keep-checkpoints", "2"];
        string checkpoints = Path.Combine(run, "checkpoints");
        int Saved() => Directory.Exists(checkpoints) ? Directory.GetDirectories(checkpoints, "step-*").Length : 0;

        using (var crashing = new FaceClusterProcess("train", temp.Path, ["train", .. common, "--cycles", "1000"]))
        {
            // Checkpoints are written every step: a kill now lands during or between saves.
            Assert.True(crashing.WaitUntil(() => new CheckpointStore(run).ListValid().Count >= 2 && Saved() >= 2, TimeSpan.FromSeconds(120)), crashing.Output);
            Thread.Sleep(700);
            crashing.Kill();
        }

        var store = new CheckpointStore(run);
        var latest = store.FindLatestValid(out var skipped);
        Assert.NotNull(latest);
        long reached;
        using (var ledger = LedgerEngine.OpenReadOnly(run)) reached = ledger.Stats().LastStep + 1;
        long lost = reached - latest.Meta.Step;
        Assert.True(lost is >= 0 and <= 1, $"checkpoint step {latest.Meta.Step}, ledger reached step {reached}"); // at most one cycle (one step here): the next cycle starts only once its checkpoint is on disk
        // A half-written checkpoint never appears under its final name: every visible step dir is whole.
        var valid = store.ListValid().Select(c => c.Directory).ToHashSet();
        foreach (var dir in Directory.GetDirectories(checkpoints, "step-*"))
            Assert.True(valid.Contains(dir) || skipped.Any(s => s.Contains(Path.GetFileName(dir))), $"{dir} is neither valid nor reported");
        Assert.True(Directory.GetDirectories(checkpoints, "step-*").All(valid.Contains), string.Join("; ", skipped));

        long target = latest.Meta.Step + 3;
        var (code, output, err) = RunCli(["train", .. common, "--cycles", target.ToString(), "--resume"]);
        Assert.True(code == 0, output + err);
        Assert.Contains($"Done: step {target}", output);
        Assert.NotNull(new CheckpointStore(run).ListValid().FirstOrDefault(c => c.Meta.Step == target));
    }

    [Fact]
    public async Task Sigterm_mid_cycle_checkpoints_the_step_reached_and_the_run_resumes_from_it()
    {
        using var temp = new ScratchFolder("fc-sigterm");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 6, Size = 32, Seed = 4 });
        string[] common = ["--data", data, "--run", run, "--workers", "2", "--steps-per-cycle", "200", "--batch", "4"];
        long stoppedAt;
        using (var stopping = new FaceClusterProcess("train", temp.Path, ["train", .. common, "--cycles", "1"]))
        {
            await stopping.WaitForAsync(@"step\s+\d+/200", TimeSpan.FromSeconds(120));
            Thread.Sleep(1500);
            stopping.Terminate();
            Assert.Equal(ExitCodes.Interrupted, await stopping.WaitForExitAsync(TimeSpan.FromSeconds(120)));
            var m = System.Text.RegularExpressions.Regex.Match(stopping.Output, @"Stopped at step (\d+)\. Last checkpoint: (\S+) \(continue with --resume\)");
            Assert.True(m.Success, stopping.Output);
            stoppedAt = long.Parse(m.Groups[1].Value);
            Assert.InRange(stoppedAt, 1, 199); // mid-cycle: no cycle-end checkpoint exists
            Assert.Equal(Path.Combine(run, "checkpoints", $"step-{stoppedAt}"), m.Groups[2].Value);
        }
        Assert.Equal(stoppedAt, new CheckpointStore(run).FindLatestValid(out _)!.Meta.Step);
        var (code, output, err) = RunCli(["train", .. common, "--cycles", "1", "--resume"]);
        Assert.True(code == 0, output + err);
        Assert.Contains("Done: step 200", output);
    }

    [Fact]
    public void Resume_on_a_run_folder_without_checkpoints_starts_a_new_run()
    {
        using var temp = new ScratchFolder("fc-resume-new");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 6, Size = 32, Seed = 4 });
        var (code, output, err) = RunCli("train", "--data", data, "--run", run, "--cycles", "1", "--steps-per-cycle", "2", "--batch", "4", "--resume");
        Assert.True(code == 0, output + err);
        Assert.Contains("warning: --resume: " + Path.Combine(run, "checkpoints") + " has no checkpoint yet: starting a new run", output);
        Assert.Contains("Done: step 2", output);
        // Said when the run starts, before it trains, not after it has written checkpoints; and once.
        int warning = output.IndexOf("has no checkpoint yet", StringComparison.Ordinal);
        Assert.True(warning < output.IndexOf("finished at step 2", StringComparison.Ordinal), output);
        Assert.Equal(warning, output.LastIndexOf("has no checkpoint yet", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_run_on_the_same_folder_is_refused_by_the_lock()
    {
        using var temp = new ScratchFolder("fc-lock");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 6, Size = 32, Seed = 8 });
        using (RunFolder.OpenExclusive(run, "coordinator (test)"))
        {
            var (code, _, err) = RunCli("train", "--data", data, "--run", run, "--cycles", "1", "--steps-per-cycle", "1", "--batch", "4");
            Assert.Equal(ExitCodes.Locked, code);
            Assert.Contains("is in use by coordinator (test)", err);
        }
    }
}
