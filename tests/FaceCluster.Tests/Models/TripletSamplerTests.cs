using FaceCluster.Common.Planning;
using FaceCluster.Common.Randomness;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
public class TripletSamplerTests
{
    // 10 identities with 6..15 samples each; id / 100 is the identity.
    private static readonly int[] Shard = Enumerable.Range(0, 10).SelectMany(g => Enumerable.Range(0, 6 + g).Select(i => g * 100 + i)).ToArray();
    private static long LabelOf(int id) => id / 100;

    [Fact]
    public void Batches_that_are_a_multiple_of_k_hold_p_identities_of_k_images()
    {
        var sampler = new LocalBatchSampler(Shard, new Dictionary<int, float>(), new DeterministicRng(3), LabelOf, 4);
        for (int b = 0; b < 50; b++)
        {
            var batch = sampler.Next(16);
            Assert.Equal(16, batch.Length);
            for (int g = 0; g < 4; g++)
            {
                var group = batch.AsSpan(g * 4, 4).ToArray();
                Assert.Single(group.Select(LabelOf).Distinct());
                Assert.Equal(4, group.Distinct().Count()); // every identity has at least K samples: no repeats in a group
            }
        }
    }

    [Fact]
    public void A_remainder_becomes_one_partial_group_and_every_sample_is_drawn_each_epoch()
    {
        var sampler = new LocalBatchSampler(Shard, new Dictionary<int, float>(), new DeterministicRng(4), LabelOf, 4);
        var batch = sampler.Next(10); // 2 whole groups + 2 images of a third identity
        Assert.Single(batch[..4].Select(LabelOf).Distinct());
        Assert.Single(batch[4..8].Select(LabelOf).Distinct());
        Assert.Single(batch[8..].Select(LabelOf).Distinct());

        // One epoch is 30 groups of 4 (identity g has 6 + g samples: ceil((6 + g) / 4) groups, the last topped up).
        var fresh = new LocalBatchSampler(Shard, new Dictionary<int, float>(), new DeterministicRng(5), LabelOf, 4);
        var epoch = fresh.Next(120);
        Assert.Equal(1, fresh.Epoch);
        Assert.Equal(Shard.Order(), epoch.Distinct().Order());
        fresh.Next(1);
        Assert.Equal(2, fresh.Epoch);
    }

    [Fact]
    public void The_p_by_k_mode_is_deterministic_from_its_seed()
    {
        var a = new LocalBatchSampler(Shard, new Dictionary<int, float> { [3] = 2f }, DeterministicRng.Derive(9, 1, 2), LabelOf, 4);
        var b = new LocalBatchSampler(Shard, new Dictionary<int, float> { [3] = 2f }, DeterministicRng.Derive(9, 1, 2), LabelOf, 4);
        var c = new LocalBatchSampler(Shard, new Dictionary<int, float> { [3] = 2f }, DeterministicRng.Derive(9, 1, 3), LabelOf, 4);
        for (int i = 0; i < 20; i++)
        {
            var x = a.Next(12);
            Assert.Equal(x, b.Next(12));
            if (i == 0) Assert.NotEqual(x, c.Next(12));
        }
    }

    [Fact]
    public void Refed_samples_are_drawn_about_w_times_as_often_in_the_p_by_k_mode()
    {
        var sampler = new LocalBatchSampler(Shard, new Dictionary<int, float> { [900] = 3f, [901] = 1.5f }, new DeterministicRng(6), LabelOf, 4);
        var draws = sampler.Next(16 * 3000);
        var counts = draws.GroupBy(d => d).ToDictionary(g => g.Key, g => g.Count());
        double baseline = Enumerable.Range(902, 13).Average(id => counts[id]); // other samples of identity 9
        Assert.InRange(counts[900] / baseline, 2.6, 3.4);
        Assert.InRange(counts[901] / baseline, 1.3, 1.7);
        double otherIdentity = Enumerable.Range(0, 6).Average(id => counts[id]);
        Assert.InRange(otherIdentity / baseline, 0.8, 1.4); // identities are drawn about in proportion to their samples (top-ups aside)
    }

    [Fact]
    public void An_identity_with_fewer_than_k_samples_gives_a_smaller_group()
    {
        int[] shard = [0, 1, 100, 101, 102, 103, 104];
        var sampler = new LocalBatchSampler(shard, new Dictionary<int, float>(), new DeterministicRng(7), LabelOf, 4);
        var draws = sampler.Next(60);
        Assert.Equal(60, draws.Length);
        Assert.Contains(0, draws);
        Assert.Contains(1, draws);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LocalBatchSampler(shard, new Dictionary<int, float>(), new DeterministicRng(7), LabelOf, 1));
    }
}
