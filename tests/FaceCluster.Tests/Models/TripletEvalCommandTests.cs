using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using TorchSharp;
using static FaceCluster.Tests.Support.CliRunner;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class TripletEvalCommandTests
{
    private static void SaveCheckpoint(string run, ModelKind kind, string[] labels)
    {
        using var model = FaceModelFactory.Create(kind, ModelPreset.Tiny, labels, 1);
        using var trainer = new ReplicaTrainer(model, torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
        new CheckpointStore(run).Save(trainer, new CheckpointMeta
        {
            ModelKind = kind.ToString(), Preset = "tiny", ImageSize = 32, Labels = labels, Step = 0, Cycle = 0, ManifestHash = "",
        });
    }

    [Fact]
    public void Eval_prints_the_ten_fold_verification_accuracy_of_held_out_identity_folders()
    {
        using var root = new ScratchFolder("fc-eval");
        SaveCheckpoint(root.Combine("run"), ModelKind.Triplet, ["a", "b"]);
        for (int g = 0; g < 4; g++)
            for (int i = 0; i < 6; i++)
                QualityTestImages.Write(root.Combine("held", $"person-{g}"), $"{i}.png", bad: g % 2 == 0, seed: g * 10 + i);
        var (code, output, error) = RunCli("eval", "--run", root.Combine("run"), "--data", root.Combine("held"));
        Assert.True(code == 0, error);
        Assert.Matches(@"verification accuracy: [01]\.\d{4} ± 0\.\d{4} \(10-fold\)", output);
        Assert.Contains("24 images", output);
    }

    [Fact]
    public void Eval_refuses_a_run_without_a_triplet_checkpoint_with_one_line()
    {
        using var root = new ScratchFolder("fc-eval");
        Directory.CreateDirectory(root.Combine("held"));
        var (code, _, error) = RunCli("eval", "--run", root.Combine("nope"), "--data", root.Combine("held"));
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--run", error);

        SaveCheckpoint(root.Combine("run"), ModelKind.Quality, ["bad", "good"]);
        (code, _, error) = RunCli("eval", "--run", root.Combine("run"), "--data", root.Combine("held"));
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("Quality", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
