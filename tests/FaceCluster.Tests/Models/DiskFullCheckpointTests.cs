using System.Diagnostics;
using FaceCluster.Common.Errors;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using TorchSharp;

namespace FaceCluster.Tests.Models;

/// <summary>A checkpoint written to a disk that fills up: the previous one is kept, the error says so.</summary>
[Trait("Tier", "integration")]
[Collection(TorchRngCollection.Name)]
public sealed class DiskFullCheckpointTests
{
    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {err}");
    }

    [MountFact]
    public void A_full_disk_keeps_the_previous_checkpoint_and_says_so()
    {
        string mount = Path.Combine(Path.GetTempPath(), "fc-full-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mount);
        try
        {
            torch.manual_seed(1);
            using var trainer = new ReplicaTrainer(new FaceSwapAutoencoder(ModelPreset.Tiny, ["a", "b"]), torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
            var batch = ModelTestData.RandomBatch(4, 32, 2, 3);
            trainer.ComputeGradients(batch, 4);
            trainer.ApplyUpdate();
            long size = trainer.ExportState().Length;
            // Room for one checkpoint and a half: the second save runs out of space part-way.
            Run("mount", "-t", "tmpfs", "-o", $"size={size * 3 / 2}", "tmpfs", mount);
            var store = new CheckpointStore(Path.Combine(mount, "run"));
            CheckpointMeta Meta() => new()
            {
                ModelKind = "Autoencoder", Preset = "tiny", ImageSize = 32, Labels = ["a", "b"], Step = trainer.Step, Cycle = 0, ManifestHash = "h",
            };
            store.Save(trainer, Meta());
            trainer.ComputeGradients(batch, 4);
            trainer.ApplyUpdate();

            var error = Assert.Throws<FaceClusterException>(() => store.Save(trainer, Meta()));
            Assert.Equal(ExitCodes.NoSpace, error.ExitCode);
            Assert.Contains("the disk is full: checkpoint step-2 could not be written", error.Message);
            Assert.Contains("the previous checkpoint step-1 is kept", error.Message);
            var latest = store.FindLatestValid(out var warnings);
            Assert.Equal(1, latest!.Meta.Step);
            Assert.Empty(warnings);
            Assert.Empty(Directory.GetDirectories(store.Root, ".tmp-*")); // the partial save was cleaned up
        }
        finally
        {
            try { Run("umount", mount); } catch (InvalidOperationException) { }
            Directory.Delete(mount, true);
        }
    }
}
