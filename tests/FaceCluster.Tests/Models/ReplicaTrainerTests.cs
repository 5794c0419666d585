using FaceCluster.Tests.Support;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Training;
using TorchSharp;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class ReplicaTrainerTests
{
    private static readonly string[] Identities = ["alice", "bob", "carol"];

    private static ReplicaTrainer NewTrainer(int seed = 7)
    {
        torch.manual_seed(seed);
        var model = new FaceSwapAutoencoder(ModelPreset.Tiny, Identities);
        return new ReplicaTrainer(model, torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Accumulating_micro_batches_gives_the_gradients_and_losses_of_the_whole_batch(int microBatches)
    {
        var batch = ModelTestData.RandomBatch(8, 32, 3, seed: 21);
        using var whole = NewTrainer();
        using var parts = NewTrainer();
        var one = whole.ComputeGradients(batch, 16);
        var many = parts.ComputeGradients(batch, 16, microBatches);
        Assert.Equal(one.SampleIds, many.SampleIds);
        for (int i = 0; i < one.Losses.Length; i++) Assert.Equal(one.Losses[i], many.Losses[i], 5); // each sample's own forward pass
        // The same sum in another order of addition: equal to float rounding.
        double scale = whole.Gradients.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int k = 0; k < whole.ParameterCount; k++)
            Assert.True(Math.Abs(whole.Gradients[k] - parts.Gradients[k]) <= 1e-5 * scale, $"gradient {k}: {whole.Gradients[k]} against {parts.Gradients[k]}");
    }

    [Fact]
    public void Per_sample_loss_has_one_value_per_sample_and_matches_a_hand_computation()
    {
        using var trainer = NewTrainer();
        var batch = ModelTestData.RandomBatch(5, 32, 3, seed: 11);
        var result = trainer.ComputeGradients(batch, 5);
        Assert.Equal(5, result.Losses.Length);
        Assert.Equal(batch.SampleIds, result.SampleIds);

        // By hand: reconstruct each sample through its identity's decoder, mean absolute error per sample.
        var model = (FaceSwapAutoencoder)trainer.Model;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < batch.Count; i++)
        {
            var x = torch.tensor(batch.Inputs.AsSpan(i * batch.FloatsPerImage, batch.FloatsPerImage).ToArray(), [1, 3, 32, 32]);
            var y = torch.tensor(batch.Targets!.AsSpan(i * batch.FloatsPerImage, batch.FloatsPerImage).ToArray(), [1, 3, 32, 32]);
            var reconstruction = model.Decoder((int)batch.Labels[i]).call(model.Encoder.call(x));
            float[] r = reconstruction.data<float>().ToArray();
            float[] t = y.data<float>().ToArray();
            double mae = 0;
            for (int k = 0; k < r.Length; k++) mae += Math.Abs(r[k] - t[k]);
            mae /= r.Length;
            Assert.Equal(mae, result.Losses[i], 5);
        }
    }

    [Fact]
    public void Gradients_live_in_the_flat_buffer()
    {
        using var trainer = NewTrainer();
        var batch = ModelTestData.RandomBatch(4, 32, 3, seed: 3);
        trainer.ComputeGradients(batch, 4);
        using var scope = torch.NewDisposeScope();
        var concatenated = torch.cat(trainer.Model.Root.parameters().Select(p => p.grad!.flatten()).ToArray());
        Assert.Equal(trainer.ParameterCount, (int)concatenated.numel());
        Assert.Equal(concatenated.data<float>().ToArray(), trainer.Gradients);
        Assert.Contains(trainer.Gradients, g => g != 0f);
    }

    [Fact]
    public void Summed_weighted_gradients_of_unequal_local_batches_equal_the_global_mean_gradient()
    {
        var global = ModelTestData.RandomBatch(10, 32, 3, seed: 5);
        using var whole = NewTrainer(seed: 21);
        using var workerA = NewTrainer(seed: 21);
        using var workerB = NewTrainer(seed: 21);
        Assert.Equal(whole.ParameterChecksum(), workerA.ParameterChecksum());

        whole.ComputeGradients(global, 10);
        workerA.ComputeGradients(ModelTestData.Slice(global, 0, 3), 10);
        workerB.ComputeGradients(ModelTestData.Slice(global, 3, 7), 10);

        float[] expected = whole.Gradients;
        float[] a = workerA.Gradients, b = workerB.Gradients;
        double maxAbs = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            // Equal up to float32 summation order: the weighting itself is exact.
            double tolerance = 1e-6 * maxAbs + 1e-5 * Math.Abs(expected[i]);
            Assert.True(Math.Abs(a[i] + b[i] - expected[i]) <= tolerance,
                $"element {i}: {a[i]} + {b[i]} = {a[i] + b[i]} but the global mean gradient is {expected[i]}");
        }
    }

    [Fact]
    public void Training_steps_lower_the_loss_on_a_fixed_batch()
    {
        using var trainer = NewTrainer();
        var batch = ModelTestData.RandomBatch(6, 32, 3, seed: 9);
        double first = trainer.ComputeGradients(batch, 6).MeanLoss;
        trainer.ApplyUpdate();
        for (int i = 0; i < 30; i++) { trainer.ComputeGradients(batch, 6); trainer.ApplyUpdate(); }
        double last = trainer.ComputeGradients(batch, 6).MeanLoss;
        Assert.Equal(31, trainer.Step);
        Assert.True(last < first * 0.9, $"loss {first} -> {last}");
    }

    [Fact]
    public void Exported_state_makes_an_identical_replica_that_stays_identical()
    {
        using var source = NewTrainer(seed: 1);
        using var target = NewTrainer(seed: 2);
        var batch = ModelTestData.RandomBatch(4, 32, 3, seed: 4);
        for (int i = 0; i < 3; i++) { source.ComputeGradients(batch, 4); source.ApplyUpdate(); }
        Assert.NotEqual(source.ParameterChecksum(), target.ParameterChecksum());

        target.ImportState(source.ExportState());
        Assert.Equal(source.Step, target.Step);
        Assert.Equal(source.ParameterChecksum(), target.ParameterChecksum());

        // Same optimizer state too: one more identical step keeps them bit-identical.
        source.ComputeGradients(batch, 4); source.ApplyUpdate();
        target.ComputeGradients(batch, 4); target.ApplyUpdate();
        Assert.Equal(source.ParameterChecksum(), target.ParameterChecksum());
    }

    [Fact]
    public void State_of_another_preset_or_identity_set_is_refused_clearly()
    {
        using var tiny = NewTrainer();
        torch.manual_seed(3);
        using var other = new ReplicaTrainer(new FaceSwapAutoencoder(ModelPreset.Tiny, ["alice", "bob"]), torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
        var e = Assert.Throws<FaceCluster.Common.Errors.FaceClusterException>(() => other.ImportState(tiny.ExportState()));
        Assert.Contains("labels differ", e.Message);
    }

    [Fact]
    public void Non_finite_losses_are_reported_and_left_out_of_the_gradient()
    {
        using var trainer = NewTrainer();
        var batch = ModelTestData.RandomBatch(3, 32, 3, seed: 8);
        batch.Targets![5] = float.NaN; // sample 0
        var result = trainer.ComputeGradients(batch, 3);
        Assert.Equal(1, result.NonFinite);
        Assert.True(float.IsNaN(result.Losses[0]));
        Assert.All(trainer.Gradients, g => Assert.True(float.IsFinite(g)));
    }
}
