using FaceCluster.Tests.Support;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using TorchSharp;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _run = Path.Combine(Path.GetTempPath(), "fc-ckpt-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

    private static ReplicaTrainer NewTrainer(string[] identities, ModelPreset? preset = null, int seed = 1)
    {
        torch.manual_seed(seed);
        preset ??= ModelPreset.Tiny;
        return new ReplicaTrainer(new FaceSwapAutoencoder(preset, identities), torch.CPU, TrainerOptions.For(preset));
    }

    private static CheckpointMeta Meta(ReplicaTrainer t, long cycle = 0, double? metric = null) => new()
    {
        ModelKind = t.Model.Kind.ToString(),
        Preset = t.Model.Preset.Name,
        ImageSize = t.Model.Preset.ImageSize,
        Labels = t.Model.Labels.ToArray(),
        Step = t.Step,
        Cycle = cycle,
        ManifestHash = "abc",
        Metric = metric,
    };

    private static void Train(ReplicaTrainer t, int steps, ulong seed = 2)
    {
        var batch = ModelTestData.RandomBatch(4, 32, t.Model.Labels.Count, seed);
        for (int i = 0; i < steps; i++) { t.ComputeGradients(batch, 4); t.ApplyUpdate(); }
    }

    [Fact]
    public void Save_writes_one_file_per_component_and_resume_restores_weights_optimizer_and_step()
    {
        using var trainer = NewTrainer(["a", "b"]);
        Train(trainer, 3);
        var store = new CheckpointStore(_run);
        var info = store.Save(trainer, Meta(trainer));
        Assert.Equal(Path.Combine(_run, "checkpoints", "step-3"), info.Directory);
        var names = Directory.GetFiles(info.Directory).Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(["decoder-a.pt", "decoder-b.pt", "encoder.pt", "meta.json", "optimizer.bin"], names);

        using var resumed = NewTrainer(["a", "b"], seed: 99);
        var latest = store.FindLatestValid(out var warnings);
        Assert.Empty(warnings);
        CheckpointStore.Load(resumed, latest!);
        Assert.Equal(3, resumed.Step);
        Assert.Equal(trainer.ParameterChecksum(), resumed.ParameterChecksum());
        Train(trainer, 1, seed: 5);
        Train(resumed, 1, seed: 5);
        Assert.Equal(trainer.ParameterChecksum(), resumed.ParameterChecksum()); // the optimizer state came back too
        Assert.Equal(4, resumed.Step);
    }

    [Fact]
    public void Keeps_the_last_K_and_the_best()
    {
        using var trainer = NewTrainer(["a"]);
        var store = new CheckpointStore(_run, keepLast: 2);
        double[] metrics = [5, 1, 4, 3, 6];
        foreach (double m in metrics)
        {
            Train(trainer, 1);
            store.Save(trainer, Meta(trainer, metric: m));
        }
        var steps = store.ListValid().Select(c => c.Step).ToArray();
        Assert.Equal([2L, 4, 5], steps); // step 2 had the best metric (1)
        Assert.Equal(2, store.FindBest()!.Step);
    }

    [Fact]
    public void A_corrupt_latest_checkpoint_is_detected_and_the_previous_one_used_with_a_warning()
    {
        using var trainer = NewTrainer(["a"]);
        var store = new CheckpointStore(_run);
        Train(trainer, 1); store.Save(trainer, Meta(trainer));
        Train(trainer, 1); var latest = store.Save(trainer, Meta(trainer));
        var encoder = Path.Combine(latest.Directory, "encoder.pt");
        var bytes = File.ReadAllBytes(encoder);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(encoder, bytes);

        var found = store.FindLatestValid(out var warnings);
        Assert.Equal(1, found!.Step);
        Assert.Contains(warnings, w => w.Contains("step-2") && w.Contains("encoder.pt does not match its checksum"));
    }

    [Fact]
    public void A_half_written_checkpoint_is_never_picked_up()
    {
        using var trainer = NewTrainer(["a"]);
        var store = new CheckpointStore(_run);
        Train(trainer, 1); store.Save(trainer, Meta(trainer));
        // What a writer killed mid-save leaves: a temporary folder, and (worst case) a renamed folder without meta.json.
        Directory.CreateDirectory(Path.Combine(store.Root, ".tmp-step-2-dead"));
        File.WriteAllText(Path.Combine(store.Root, ".tmp-step-2-dead", "encoder.pt"), "partial");
        Directory.CreateDirectory(Path.Combine(store.Root, "step-3"));
        File.WriteAllText(Path.Combine(store.Root, "step-3", "encoder.pt"), "partial");
        Assert.Equal(1, store.FindLatestValid(out var warnings)!.Step);
        Assert.Contains(warnings, w => w.Contains("step-3") && w.Contains("meta.json is missing"));
    }

    [Fact]
    public void Loading_a_checkpoint_of_another_preset_or_identity_set_fails_clearly()
    {
        using var tiny = NewTrainer(["a", "b"]);
        var store = new CheckpointStore(_run);
        var info = store.Save(tiny, Meta(tiny));

        using var other = NewTrainer(["a", "c"]);
        var e1 = Assert.Throws<FaceClusterException>(() => CheckpointStore.Load(other, info));
        Assert.Contains("identities [a, b]", e1.Message);
        Assert.Contains("checkpoint step-0", e1.Message);

        var forged = info with { Meta = info.Meta with { Preset = "original", ImageSize = 64 } };
        var e2 = Assert.Throws<FaceClusterException>(() => CheckpointStore.Load(tiny, forged));
        Assert.Contains("preset 'original' (64px)", e2.Message);
        Assert.Contains("'tiny' (32px)", e2.Message);
    }

    [Fact]
    public void Warm_start_from_another_runs_encoder_copies_the_encoder_only()
    {
        using var donor = NewTrainer(["a", "b"], seed: 3);
        Train(donor, 2);
        var info = new CheckpointStore(_run).Save(donor, Meta(donor));

        using var fresh = NewTrainer(["c", "d", "e"], seed: 4);
        var model = (FaceSwapAutoencoder)fresh.Model;
        var donorModel = (FaceSwapAutoencoder)donor.Model;
        CheckpointStore.LoadComponent(model.Encoder, "encoder", ModelPreset.Tiny, info.Directory, "encoder");
        Assert.Equal(Checksum(donorModel.Encoder), Checksum(model.Encoder));
        Assert.NotEqual(Checksum(donorModel.Decoder(0)), Checksum(model.Decoder(0)));

        // A bare encoder.pt works too; a file of another preset is refused with a clear message.
        CheckpointStore.LoadComponent(model.Encoder, "encoder", ModelPreset.Tiny, Path.Combine(info.Directory, "encoder.pt"), "encoder");
        var wrong = new FaceEncoder(ModelPreset.Original);
        var e = Assert.Throws<FaceClusterException>(() => CheckpointStore.LoadComponent(wrong, "encoder", ModelPreset.Original, info.Directory, "encoder"));
        Assert.Contains("preset 'tiny'", e.Message);
        string bare = Path.Combine(_run, "bare-encoder.pt");
        File.Copy(Path.Combine(info.Directory, "encoder.pt"), bare);
        var e2 = Assert.Throws<FaceClusterException>(() => CheckpointStore.LoadComponent(wrong, "encoder", ModelPreset.Original, bare, "encoder"));
        Assert.Contains("does not fit", e2.Message);
    }

    private static string Checksum(torch.nn.Module module)
    {
        using var scope = torch.NewDisposeScope();
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var p in module.parameters()) hash.AppendData(p.detach().contiguous().bytes);
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
