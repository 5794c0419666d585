using FaceCluster.Tests.Support;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Models.Triplet;
using FaceCluster.Common.Randomness;
using TorchSharp;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class TripletMiningTests
{
    /// <summary>Symmetric distance matrix from a list of (i, j, d) entries; unlisted pairs are far apart (3.9).</summary>
    private static float[] Distances(int n, params (int I, int J, float D)[] entries)
    {
        var d = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) d[i * n + j] = i == j ? 0 : 3.9f;
        foreach (var (i, j, v) in entries) { d[i * n + j] = v; d[j * n + i] = v; }
        return d;
    }

    [Fact]
    public void Semi_hard_negatives_are_inside_the_margin_and_pairs_without_one_are_dropped()
    {
        // Rows 0,1 are identity A; 2,3 identity B; 4 identity C.
        long[] labels = [0, 0, 1, 1, 2];
        var d = Distances(5,
            (0, 1, 0.50f),              // d(a,p) for the A pair
            (0, 2, 0.60f),              // semi-hard for anchor 0: 0.5 < 0.6 < 0.7
            (0, 3, 0.40f),              // hard (closer than the positive): never chosen
            (0, 4, 0.75f),              // beyond the margin: never chosen
            (1, 2, 0.45f), (1, 3, 0.95f), (1, 4, 0.30f), // anchor 1: nothing in (0.5, 0.7) → pair (1,0) dropped
            (2, 3, 1.00f),              // the B pair
            (2, 4, 1.10f), (3, 4, 1.19f)); // semi-hard for anchors 2 and 3 (also 0 at 0.6 for 2, 1 at 0.95 for 3)
        var triplets = SemiHardTripletMiner.Mine(d, labels, 0.2, new DeterministicRng(1));

        Assert.Contains(new TripletIndex(0, 1, 2), triplets);
        Assert.DoesNotContain(triplets, t => t.Anchor == 1);
        Assert.DoesNotContain(triplets, t => t.Anchor == 4); // C has no positive
        Assert.All(triplets, t =>
        {
            Assert.Equal(labels[t.Anchor], labels[t.Positive]);
            Assert.NotEqual(labels[t.Anchor], labels[t.Negative]);
            float ap = d[t.Anchor * 5 + t.Positive], an = d[t.Anchor * 5 + t.Negative];
            Assert.True(ap < an && an < ap + 0.2, $"{t}: d(a,p)={ap}, d(a,n)={an}");
        });
        var b = triplets.Where(t => t.Anchor == 2).ToList();
        Assert.Equal(new TripletIndex(2, 3, 4), Assert.Single(b)); // 1.0 < 1.1 < 1.2; row 0 at 0.6 and row 1 at 0.45 are hard
        Assert.Equal(new TripletIndex(3, 2, 4), Assert.Single(triplets, t => t.Anchor == 3)); // 1.19 is inside; 0.95 is hard
        Assert.Equal(3, triplets.Count);
    }

    [Fact]
    public void Every_anchor_positive_pair_is_used_and_the_random_pick_is_deterministic()
    {
        // Three images of identity 0, all 0.5 apart; four negatives all inside the margin.
        long[] labels = [0, 0, 0, 1, 1, 2, 2];
        var entries = new List<(int, int, float)> { (0, 1, 0.5f), (0, 2, 0.5f), (1, 2, 0.5f), (3, 4, 0.1f), (5, 6, 0.1f) };
        for (int a = 0; a < 3; a++) for (int n = 3; n < 7; n++) entries.Add((a, n, 0.55f + 0.01f * n));
        var d = Distances(7, entries.ToArray());
        var first = SemiHardTripletMiner.Mine(d, labels, 0.2, new DeterministicRng(5));
        var again = SemiHardTripletMiner.Mine(d, labels, 0.2, new DeterministicRng(5));
        Assert.Equal(first, again);
        var fromZero = first.Where(t => t.Anchor < 3).Select(t => (t.Anchor, t.Positive)).ToHashSet();
        Assert.Equal(6, fromZero.Count); // every ordered pair of the three
        var picks = Enumerable.Range(0, 40).SelectMany(s => SemiHardTripletMiner.Mine(d, labels, 0.2, new DeterministicRng((ulong)s)))
            .Where(t => t.Anchor == 0).Select(t => t.Negative).ToHashSet();
        Assert.Equal([3, 4, 5, 6], picks.Order()); // a random violator, not always the same one
    }

    [Fact]
    public void Per_sample_loss_is_the_mean_over_the_triplets_a_sample_anchors_and_zero_without_any()
    {
        const ulong seed = 3;
        using var model = (TripletFaceModel)FaceModelFactory.Create(ModelKind.Triplet, ModelPreset.Tiny, ["a", "b", "c", "d"], seed);
        var batch = ModelTestData.RandomBatch(12, 32, 3, seed: 4, withTargets: false); // labels 0,1,2 repeating: 4 images each
        batch.Labels[11] = 3; // identity 3 has one image: no positive, loss 0
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(batch.Inputs, [12, 3, 32, 32]);
        float[] losses = model.PerSampleLoss(x, null, batch.Labels).detach().data<float>().ToArray();

        // By hand, with the same mining stream and the same (deterministic) embeddings.
        float[] e;
        using (torch.no_grad()) e = model.forward(x).data<float>().ToArray();
        var d = new float[144];
        for (int i = 0; i < 12; i++)
            for (int j = 0; j < 12; j++)
            {
                double s = 0;
                for (int k = 0; k < 128; k++) { double t = e[i * 128 + k] - e[j * 128 + k]; s += t * t; }
                d[i * 12 + j] = (float)s;
            }
        var triplets = SemiHardTripletMiner.Mine(d, batch.Labels, model.Margin, TripletFaceModel.MiningStream(seed));
        Assert.NotEmpty(triplets);
        for (int i = 0; i < 12; i++)
        {
            var mine = triplets.Where(t => t.Anchor == i).ToList();
            double expected = mine.Count == 0 ? 0 : mine.Average(t => Math.Max(0, d[i * 12 + t.Positive] - d[i * 12 + t.Negative] + model.Margin));
            Assert.Equal(expected, losses[i], 3);
        }
        Assert.Equal(0f, losses[11]);
    }

    [Fact]
    public void A_batch_without_triplets_trains_with_zero_losses_and_zero_gradients()
    {
        using var model = FaceModelFactory.Create(ModelKind.Triplet, ModelPreset.Tiny, ["a", "b", "c", "d"], 1);
        using var trainer = new ReplicaTrainer(model, torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
        var batch = ModelTestData.RandomBatch(4, 32, 4, seed: 2, withTargets: false); // four identities, one image each
        var result = trainer.ComputeGradients(batch, 8);
        Assert.All(result.Losses, l => Assert.Equal(0f, l));
        Assert.Equal(0, result.NonFinite);
        Assert.All(trainer.Gradients, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void The_model_declares_p_by_k_batches_and_rejects_a_single_identity()
    {
        using var model = FaceModelFactory.Create(ModelKind.Triplet, ModelPreset.Tiny, ["a", "b"], 1);
        Assert.True(model.BatchComposition.GroupsByIdentity);
        Assert.Equal(TripletFaceModel.DefaultImagesPerIdentity, model.BatchComposition.ImagesPerIdentity);
        Assert.Equal(FaceCluster.Common.FaceSet.BatchKind.Plain, model.BatchKind);
        var error = Assert.Throws<FaceClusterException>(() => FaceModelFactory.Create(ModelKind.Triplet, ModelPreset.Tiny, ["solo"], 1));
        Assert.Contains("two identities", error.Message);
        using var probe = (TripletFaceModel)model;
        using var scope = torch.NewDisposeScope();
        var e = probe.Embed(torch.rand(3, 3, 32, 32));
        for (int i = 0; i < 3; i++)
            Assert.Equal(1.0, Math.Sqrt(e.AsSpan(i * 128, 128).ToArray().Sum(v => (double)v * v)), 4);
    }

    [Fact]
    public void Summed_worker_gradients_are_the_gradient_of_the_mean_per_sample_loss_over_the_global_batch()
    {
        // Two "workers" with local batches of 8 and 4 (the second has an identity with one image: loss 0, still counted).
        var a = ModelTestData.RandomBatch(8, 32, 2, seed: 21, withTargets: false);
        var b = ModelTestData.RandomBatch(4, 32, 3, seed: 22, withTargets: false);
        const int global = 12;
        float[] summed;
        using (var model = FaceModelFactory.Create(ModelKind.Triplet, ModelPreset.Tiny, ["a", "b", "c"], 9))
        using (var trainer = new ReplicaTrainer(model, torch.CPU, TrainerOptions.For(ModelPreset.Tiny)))
        {
            trainer.ComputeGradients(a, global);
            summed = (float[])trainer.Gradients.Clone();
            trainer.AbandonStep();
            trainer.ComputeGradients(b, global);
            for (int i = 0; i < summed.Length; i++) summed[i] += trainer.Gradients[i];
        }

        // By hand: the same model (same seed, same mining stream), mean of every per-sample loss over the 12 samples.
        using var reference = FaceModelFactory.Create(ModelKind.Triplet, ModelPreset.Tiny, ["a", "b", "c"], 9);
        using var scope = torch.NewDisposeScope();
        var la = reference.PerSampleLoss(torch.tensor(a.Inputs, [8, 3, 32, 32]), null, a.Labels);
        var lb = reference.PerSampleLoss(torch.tensor(b.Inputs, [4, 3, 32, 32]), null, b.Labels);
        var lbHost = lb.detach().data<float>().ToArray(); // b's labels are 0, 1, 2, 0: rows 1 and 2 have no positive
        Assert.Equal(0f, lbHost[1]);
        Assert.Equal(0f, lbHost[2]);
        (torch.cat([la, lb]).sum() / global).backward();
        var expected = reference.Root.parameters().SelectMany(p => p.grad!.data<float>().ToArray()).ToArray();
        Assert.Equal(expected.Length, summed.Length);
        double scale = expected.Max(Math.Abs);
        Assert.True(scale > 0, "some triplets should have been mined");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - summed[i]) <= 1e-4 * scale, $"element {i}: {summed[i]} vs {expected[i]}");
    }
}
