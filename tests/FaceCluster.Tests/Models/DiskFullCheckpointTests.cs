using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
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
    [MountFact]
    public void A_full_disk_keeps_the_previous_checkpoint_and_says_so()
    {
        using var temp = new ScratchFolder("fc-full");
        torch.manual_seed(1);
        using var trainer = new ReplicaTrainer(new FaceSwapAutoencoder(ModelPreset.Tiny, ["a", "b"]), torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
        var batch = ModelTestData.RandomBatch(4, 32, 2, 3);
        trainer.ComputeGradients(batch, 4);
        trainer.ApplyUpdate();
        long size = trainer.ExportState().Length;
        // Room for one checkpoint and a half: the second save runs out of space part-way.
        using var disk = new TmpfsMount(temp.Combine("disk"), size * 3 / 2);
        var store = new CheckpointStore(Path.Combine(disk.Path, "run"));
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
}
