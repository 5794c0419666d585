using System.Diagnostics;
using System.Text.RegularExpressions;
using FaceCluster.Common.Errors;
using FaceCluster.Common.FaceSet.Synth;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Tests.Cluster;
using FaceCluster.Tests.FaceSet;
using FaceCluster.Tests.Models;

namespace FaceCluster.Tests.Runs;

/// <summary>Faults of the run folder, met by `facecluster` processes: a second coordinator on it, and a disk that fills up.</summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public sealed class ProcessFaultTests
{
    [Fact]
    public async Task A_second_coordinator_on_the_same_run_folder_is_refused_by_the_lock()
    {
        using var temp = new TempFolder("fc-two-coordinators");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 4);
        string run = temp.Combine("run");
        string[] args = ["coordinator", "--data", faces, "--run", run, "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cycles", "1", "--steps-per-cycle", "2", "--batch", "4"];
        using var first = new FaceClusterProcess("coordinator-1", temp.Path, args);
        await first.WaitForAsync(@"HTTP API: (\S+)", TimeSpan.FromSeconds(60));

        using var second = new FaceClusterProcess("coordinator-2", temp.Path, args);
        Assert.Equal(ExitCodes.Locked, await second.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"{run} is in use by", second.Output);

        // The first one is untouched: it still owns the folder and stops as it should.
        Assert.False(first.HasExited, first.Output);
        first.Terminate();
        Assert.Equal(ExitCodes.Interrupted, await first.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [MountFact]
    public async Task A_disk_that_fills_up_during_a_checkpoint_keeps_the_previous_one_and_the_run_goes_on()
    {
        using var temp = new TempFolder("fc-disk-full");
        string data = temp.Combine("faces"), mount = temp.Combine("small-disk"), run = Path.Combine(mount, "run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 8, Size = 32, Seed = 11 });
        Directory.CreateDirectory(mount);
        // A tiny-preset checkpoint (weights and Adam state) is about 21 MB: 45 MB holds two, not the four planned.
        Run("mount", "-t", "tmpfs", "-o", "size=45m", "tmpfs", mount);
        try
        {
            using var train = new FaceClusterProcess("train", temp.Path, "train", "--data", data, "--run", run, "--workers", "2",
                "--cycles", "4", "--steps-per-cycle", "5", "--batch", "8", "--keep-checkpoints", "4");
            Assert.Equal(ExitCodes.Ok, await train.WaitForExitAsync(TimeSpan.FromSeconds(180)));
            string output = train.Output;
            Assert.Contains("Done: step 20", output);
            var failed = Regex.Matches(output, @"checkpoint of step (\d+) failed: the disk is full: checkpoint step-\1 could not be written to \S+; the previous checkpoint (step-\d+) is kept");
            Assert.True(failed.Count > 0, output);
            var last = Regex.Match(output, @"Last checkpoint: (\S+)");
            Assert.True(last.Success, output);

            // The checkpoint named as kept is the newest valid one; nothing half-written is left under a step name.
            var store = new CheckpointStore(run);
            var latest = store.FindLatestValid(out var skipped);
            Assert.NotNull(latest);
            Assert.Empty(skipped);
            Assert.Equal(latest.Directory, last.Groups[1].Value);
            Assert.Equal(Path.GetFileName(latest.Directory), failed[^1].Groups[2].Value);
            Assert.Equal(Directory.GetDirectories(Path.Combine(run, "checkpoints"), "step-*").Order(), store.ListValid().Select(c => c.Directory).Order());
        }
        finally
        {
            Run("umount", "-l", mount);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {err}");
    }
}
