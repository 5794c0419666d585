using FaceCluster.Tests.Support;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Tests.Models;

/// <summary>
/// The flat Adam against torch.optim.Adam, the sharded update over a ring against the whole update, and the
/// optimizer state's formats (its own, and TorchSharp's from older checkpoints).
/// </summary>
[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class FlatAdamTests
{
    private static readonly string[] Identities = TrainerTestKit.Identities;

    private static ReplicaTrainer NewTrainer(int seed = 7, int updateThreads = 1) => TrainerTestKit.NewTrainer(seed, updateThreads: updateThreads);

    private static ReplicaTrainer CopyOf(ReplicaTrainer source, int updateThreads = 1) => TrainerTestKit.CopyOf(source, updateThreads: updateThreads);

    private static float[] Weights(ReplicaTrainer trainer) => TrainerTestKit.Weights(trainer);

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what) => TrainerTestKit.AssertClose(expected, actual, tolerance, what);

    [Fact]
    public void Five_steps_follow_torch_optim_Adam_on_the_same_gradients()
    {
        using var trainer = NewTrainer(seed: 5);
        using var reference = CopyOf(trainer);
        var options = TrainerOptions.For(ModelPreset.Tiny);
        var parameters = reference.Model.Root.parameters().ToArray();
        using var adam = optim.Adam(parameters, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon);
        for (int step = 0; step < 5; step++)
        {
            var batch = ModelTestData.RandomBatch(4, 32, 3, seed: (ulong)(40 + step));
            trainer.ComputeGradients(batch, 4);
            reference.ComputeGradients(batch, 4);
            Assert.Equal(reference.Gradients, trainer.Gradients); // same weights so far: same gradients
            trainer.ApplyUpdate();
            adam.step();
            // float32 roundings differ (fused pass against separate ops); the weights moved by ~lr per step.
            AssertClose(Weights(reference), Weights(trainer), 2e-6, $"step {step + 1}");
            using (torch.no_grad()) foreach (var (p, q) in parameters.Zip(trainer.Model.Root.parameters())) p.copy_(q); // keep both on one trajectory
        }
        Assert.Contains(trainer.Gradients, g => g != 0f); // the buffer held the new weights, then the next gradients
        Assert.Equal(5, trainer.Step);
    }

    [Fact]
    public void The_update_on_several_threads_is_the_update_on_one()
    {
        using var one = NewTrainer(seed: 8);
        using var four = CopyOf(one, updateThreads: 4);
        for (int step = 0; step < 2; step++)
        {
            var batch = ModelTestData.RandomBatch(3, 32, 3, seed: (ulong)step);
            one.ComputeGradients(batch, 3); one.ApplyUpdate();
            four.ComputeGradients(batch, 3); four.ApplyUpdate();
        }
        Assert.Equal(one.ParameterChecksum(), four.ParameterChecksum());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_sharded_update_over_a_ring_equals_the_whole_update_of_the_summed_gradient(int n)
    {
        using var whole = NewTrainer(seed: 12);
        var trainers = Enumerable.Range(0, n).Select(_ => CopyOf(whole)).ToArray();
        try
        {
            using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 64 * 1024 });
            int count = whole.ParameterCount;
            var layout = ShardLayout.Proportional(count, Enumerable.Range(0, n).Select(r => 1.0 + 2 * r).ToArray());
            for (int step = 0; step < 3; step++)
            {
                var batches = Enumerable.Range(0, n).Select(r => ModelTestData.RandomBatch(2 + r, 32, 3, seed: (ulong)(100 * step + r))).ToArray();
                await TrainerTestKit.ShardedStepAsync(ring, whole, trainers, batches, layout, step);
            }
            foreach (var t in trainers) Assert.Equal(whole.ParameterChecksum(), t.ParameterChecksum());

            // Each rank's moments are current in its own range only, until the ranks exchange them.
            Assert.False(trainers[0].Optimizer.FirstMoments.AsSpan().SequenceEqual(whole.Optimizer.FirstMoments));
            var gathers = RingHarness.OnThreads(Enumerable.Range(0, n), r =>
            {
                ring.Sessions[r].AllGather(trainers[r].Optimizer.FirstMoments, count, 99, layout);
                ring.Sessions[r].AllGather(trainers[r].Optimizer.SecondMoments, count, 99, layout);
                return r;
            });
            await RingHarness.WithinGuard(Task.WhenAll(gathers));
            foreach (var t in trainers)
            {
                Assert.Equal(whole.Optimizer.FirstMoments, t.Optimizer.FirstMoments);
                Assert.Equal(whole.Optimizer.SecondMoments, t.Optimizer.SecondMoments);
            }
        }
        finally
        {
            foreach (var t in trainers) t.Dispose();
        }
    }

    [Fact]
    public void Abandoned_moments_go_back_to_the_last_boundary()
    {
        using var trainer = NewTrainer();
        var batch = ModelTestData.RandomBatch(3, 32, 3, seed: 2);
        trainer.ComputeGradients(batch, 3); trainer.ApplyUpdate();
        trainer.Optimizer.SaveBoundary();
        float[] m = [.. trainer.Optimizer.FirstMoments], v = [.. trainer.Optimizer.SecondMoments];
        trainer.ComputeGradients(batch, 3); trainer.UpdateRange(0, 1000);
        Assert.NotEqual(m, trainer.Optimizer.FirstMoments);
        trainer.AbandonStep();
        Assert.True(trainer.Optimizer.RestoreBoundary());
        Assert.Equal(m, trainer.Optimizer.FirstMoments);
        Assert.Equal(v, trainer.Optimizer.SecondMoments);
    }

    [Fact]
    public void A_checkpoint_with_a_TorchSharp_Adam_state_is_still_read_and_continues_as_torch_would()
    {
        // What checkpoints held before the flat optimizer: optimizer.pt, TorchSharp's state dictionary of Adam.
        using var old = NewTrainer(seed: 3);
        var parameters = old.Model.Root.parameters().ToArray();
        var options = TrainerOptions.For(ModelPreset.Tiny);
        using var adam = optim.Adam(parameters, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon);
        for (int step = 0; step < 2; step++) { old.ComputeGradients(ModelTestData.RandomBatch(3, 32, 3, seed: (ulong)step), 3); adam.step(); }
        var modern = old.ExportBundle();
        var files = modern.Files.Where(f => f.Key != CheckpointStore.OptimizerFile).ToDictionary(f => f.Key, f => f.Value);
        using (var stream = new MemoryStream())
        {
            using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) adam.save_state_dict(w);
            files[CheckpointStore.LegacyOptimizerFile] = stream.ToArray();
        }
        var legacy = modern with { Step = 2, Files = files };

        using var resumed = NewTrainer(seed: 4);
        resumed.ImportBundle(legacy, "an older checkpoint");
        Assert.Equal(2, resumed.Step);
        Assert.Equal(old.ParameterChecksum(), resumed.ParameterChecksum());
        Assert.Contains(resumed.Optimizer.SecondMoments, x => x != 0f);

        // One more step: the flat optimizer from the converted moments lands where torch's Adam lands.
        var batch = ModelTestData.RandomBatch(3, 32, 3, seed: 9);
        old.ComputeGradients(batch, 3); adam.step();
        resumed.ComputeGradients(batch, 3); resumed.ApplyUpdate();
        AssertClose(Weights(old), Weights(resumed), 2e-6, "the step after resuming");
    }

    [Fact]
    public void A_truncated_or_foreign_optimizer_state_is_refused_by_name()
    {
        using var trainer = NewTrainer();
        var bundle = trainer.ExportBundle();
        var files = new Dictionary<string, byte[]>(bundle.Files) { [CheckpointStore.OptimizerFile] = bundle.Files[CheckpointStore.OptimizerFile][..100] };
        var e = Assert.Throws<FaceCluster.Common.Errors.FaceClusterException>(() => trainer.ImportBundle(bundle with { Files = files }, "checkpoint step-7"));
        Assert.Contains("checkpoint step-7: optimizer.bin", e.Message);
        Assert.Contains("truncated", e.Message);

        using var small = new ReplicaTrainer(new FaceSwapAutoencoder(ModelPreset.Tiny, Identities), torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
        var adam = new FlatAdam(10, TrainerOptions.For(ModelPreset.Tiny));
        files[CheckpointStore.OptimizerFile] = adam.Save();
        e = Assert.Throws<FaceCluster.Common.Errors.FaceClusterException>(() => small.ImportBundle(bundle with { Files = files }, "checkpoint step-7"));
        Assert.Contains("holds 10 values", e.Message);
    }
}
