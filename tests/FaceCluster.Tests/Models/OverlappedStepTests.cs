using FaceCluster.Tests.Support;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Tests.Models;

/// <summary>
/// The step whose all-reduce runs bucket by bucket beside backward (<see cref="BucketedAllReduce"/>, the autoencoder's
/// backward in two stages): it equals the serial step bit for bit, its gradients equal one whole backward's, and a
/// failure on either side ends it without anything writing the buffers afterwards.
/// </summary>
[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class OverlappedStepTests
{
    private static readonly string[] Identities = TrainerTestKit.Identities;

    private static ReplicaTrainer NewTrainer(int seed = 7, UpdatePlacement placement = UpdatePlacement.Host) => TrainerTestKit.NewTrainer(seed, placement);

    private static ReplicaTrainer CopyOf(ReplicaTrainer source, UpdatePlacement placement = UpdatePlacement.Host) => TrainerTestKit.CopyOf(source, placement);

    [Fact]
    public void The_autoencoders_buckets_are_its_decoders_then_its_encoder_and_tile_the_buffer()
    {
        using var trainer = NewTrainer();
        var model = (FaceSwapAutoencoder)trainer.Model;
        long encoder = model.Encoder.parameters().Sum(p => p.numel());
        Assert.Equal(2, trainer.Buckets.Count);
        Assert.Equal(("decoders", "encoder"), (trainer.Buckets[0].Name, trainer.Buckets[1].Name));
        Assert.Equal(encoder, trainer.Buckets[1].Count);
        Assert.Equal(trainer.ParameterCount, trainer.Buckets.Sum(b => b.Count));
        Assert.Equal(0, trainer.Buckets.Min(b => b.Offset));

        torch.manual_seed(3);
        using var triplet = new ReplicaTrainer(FaceModelFactory.Create(ModelKind.Triplet, ModelPreset.Tiny, Identities, 1), torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
        Assert.Equal([new GradientBucket("all", 0, triplet.ParameterCount)], triplet.Buckets);
    }

    [Fact]
    public void Backward_in_two_stages_gives_the_gradients_of_one_whole_backward()
    {
        using var trainer = NewTrainer(seed: 17);
        var batch = ModelTestData.RandomBatch(5, 32, 3, seed: 4);
        var reported = new List<int>();
        trainer.ComputeGradients(batch, 7, onBucketReady: reported.Add);
        Assert.Equal([0, 1], reported);
        float[] staged = (float[])trainer.Gradients.Clone();
        Assert.Contains(staged.Skip(trainer.Buckets[1].Offset).Take(trainer.Buckets[1].Count), g => g != 0f); // the encoder's gradients were computed

        // The same batch through the model's own PerSampleLoss, one backward, into the same (zeroed) flat buffer.
        Array.Clear(trainer.Gradients);
        using (var scope = torch.NewDisposeScope())
        {
            long[] shape = [batch.Count, 3, batch.ImageSize, batch.ImageSize];
            var inputs = torch.tensor(batch.Inputs, shape);
            var targets = torch.tensor(batch.Targets!, shape);
            (trainer.Model.PerSampleLoss(inputs, targets, batch.Labels).sum() / 7).backward();
        }
        Assert.True(staged.AsSpan().SequenceEqual(trainer.Gradients), "two stages and one backward differ");
    }

    [Theory]
    [InlineData(2, UpdatePlacement.Host)]
    [InlineData(3, UpdatePlacement.Host)]
    [InlineData(2, UpdatePlacement.Device)]
    public async Task The_overlapped_step_equals_the_serial_step_bit_for_bit(int n, UpdatePlacement placement)
    {
        using var origin = NewTrainer(seed: 23);
        var serial = Enumerable.Range(0, n).Select(_ => CopyOf(origin, placement)).ToArray();
        var overlapped = Enumerable.Range(0, n).Select(_ => CopyOf(origin, placement)).ToArray();
        try
        {
            using var serialRing = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 64 * 1024 });
            using var overlapRing = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 64 * 1024 }, generation: 2);
            var weights = Enumerable.Range(0, n).Select(r => 2.0 + r).ToArray();
            async Task Run(ReplicaTrainer[] trainers, RingHarness ring, bool overlap)
            {
                var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r =>
                {
                    var t = trainers[r];
                    using var reducer = new BucketedAllReduce(ring.Sessions[r], t.Buckets, weights, t.Gradients, t.UpdateRange, WireFormat.Fp32, overlap);
                    Assert.Equal(overlap, reducer.Overlapped);
                    for (long step = 0; step < 3; step++)
                    {
                        reducer.BeginStep();
                        var batch = ModelTestData.RandomBatch(2 + r, 32, 3, seed: (ulong)(50 * step + r));
                        long s = step;
                        t.ComputeGradients(batch, 2 * n + n * (n - 1) / 2 + 2, onBucketReady: b => reducer.Ready(s, b));
                        reducer.WaitStep(step);
                        t.CommitUpdate();
                    }
                    t.ExchangeMoments(m => reducer.AllGather(m, 99));
                    return r;
                });
                await RingHarness.WithinGuard(Task.WhenAll(runs));
            }
            await Run(serial, serialRing, overlap: false);
            await Run(overlapped, overlapRing, overlap: true);

            string expected = serial[0].ParameterChecksum();
            Assert.NotEqual(origin.ParameterChecksum(), expected);
            foreach (var t in serial.Concat(overlapped)) Assert.Equal(expected, t.ParameterChecksum());
            foreach (var t in overlapped.Concat(serial.Skip(1)))
            {
                Assert.True(serial[0].Optimizer.FirstMoments.AsSpan().SequenceEqual(t.Optimizer.FirstMoments), "first moments differ");
                Assert.True(serial[0].Optimizer.SecondMoments.AsSpan().SequenceEqual(t.Optimizer.SecondMoments), "second moments differ");
            }
        }
        finally
        {
            foreach (var t in serial.Concat(overlapped)) t.Dispose();
        }
    }

    [Fact]
    public void Overlap_auto_is_on_for_a_gpu_and_for_a_cpu_only_with_a_core_to_spare()
    {
        int cores = Environment.ProcessorCount;
        var cuda = new torch.Device(DeviceType.CUDA, 0);
        Assert.True(StepOverlap.Resolve("auto", cuda, cores, 4));
        Assert.False(StepOverlap.Resolve("auto", torch.CPU, 1, cores)); // one thread per core already
        Assert.Equal(cores > 1, StepOverlap.Resolve(null, torch.CPU, 1, cores - 1));
        Assert.True(StepOverlap.Resolve(" ON ", torch.CPU, cores, cores));
        Assert.False(StepOverlap.Resolve("off", cuda, 1, 1));
        var e = Assert.Throws<FaceCluster.Common.Errors.FaceClusterException>(() => StepOverlap.Normalize("yes"));
        Assert.Contains("--overlap 'yes' is not a setting: use auto, on or off", e.Message);
    }

    [Fact]
    public async Task A_peer_that_vanishes_mid_step_fails_the_step_by_the_bucket_that_could_not_finish()
    {
        using var ring = await RingHarness.StartAsync(2, new DataPlaneOptions { SegmentBytes = 64 * 1024 }, timeout: TimeSpan.FromSeconds(5));
        float[] buffer = new float[4000];
        GradientBucket[] buckets = [new("second", 1000, 3000), new("first", 0, 1000)];
        using var reducer = new BucketedAllReduce(ring.Sessions[0], buckets, [1.0, 1.0], buffer, null, WireFormat.Fp32, overlap: true);
        reducer.BeginStep();
        ring.Sessions[1].Dispose(); // the peer is gone before it sends anything
        reducer.Ready(0, 0);
        reducer.Ready(0, 1);
        var e = Assert.Throws<AllReduceFailedException>(() => reducer.WaitStep(0));
        Assert.Equal(ring.Spec.MemberEndpoints[1], e.PeerEndpoint);
    }

    [Fact]
    public async Task A_backward_that_throws_after_the_first_bucket_leaves_nothing_writing_the_buffers()
    {
        using var ring = await RingHarness.StartAsync(2, new DataPlaneOptions { SegmentBytes = 64 * 1024 }, timeout: TimeSpan.FromSeconds(20));
        float[] buffer = new float[4000];
        GradientBucket[] buckets = [new("second", 1000, 3000), new("first", 0, 1000)];
        int hooks = 0;
        var reducer = new BucketedAllReduce(ring.Sessions[0], buckets, [1.0, 1.0], buffer, (_, _) => Interlocked.Increment(ref hooks), WireFormat.Fp32, overlap: true);
        reducer.BeginStep();
        reducer.Ready(0, 0); // rank 1 never joins: the bucket is in flight, waiting for it
        await Task.Delay(200);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        reducer.Dispose(); // what the worker does when backward throws: the ring session goes, the collective ends at once
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"disposing took {watch.Elapsed}");
        Assert.True(ring.Sessions[0].IsFaulted);
        Array.Fill(buffer, 1f);
        await Task.Delay(100);
        Assert.All(buffer, x => Assert.Equal(1f, x));
        Assert.Equal(0, hooks);
        Assert.Throws<InvalidOperationException>(() => reducer.Ready(0, 0));
    }
}
