using FaceCluster.Common.Planning;
using FaceCluster.Common.Randomness;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Tests.Planning;

[Trait("Tier", "unit")]
public class PlanningTests
{
    [Theory]
    [InlineData(new[] { 32 }, 100)]
    [InlineData(new[] { 16, 16 }, 101)]
    [InlineData(new[] { 48, 16 }, 1000)]
    [InlineData(new[] { 10, 1, 5, 7, 3 }, 997)]
    public void Shards_are_disjoint_cover_the_active_set_and_follow_the_batch_proportions(int[] batches, int samples)
    {
        var ids = Enumerable.Range(0, samples).Select(i => i * 3).ToArray();
        var excluded = ids.Where((_, i) => i % 10 == 0).ToHashSet();
        var shards = ShardAssignment.Split(ids, excluded, seed: 42, cycle: 3, batches);
        var all = shards.SelectMany(s => s).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(ids.Where(i => !excluded.Contains(i)).Order(), all.Order());
        int active = all.Count;
        double total = batches.Sum();
        for (int r = 0; r < batches.Length; r++)
            Assert.InRange(shards[r].Length, active * batches[r] / total - 1, active * batches[r] / total + 1);
    }

    [Fact]
    public void Shards_are_the_same_on_every_worker_and_change_with_the_cycle()
    {
        var ids = Enumerable.Range(0, 500).ToArray();
        var a = ShardAssignment.Split(ids, [], 7, 1, [3, 5]);
        var b = ShardAssignment.Split(ids.Reverse().ToArray(), new List<int>(), 7, 1, [3, 5]);
        Assert.Equal(a[0], b[0]);
        Assert.Equal(a[1], b[1]);
        var c = ShardAssignment.Split(ids, [], 7, 2, [3, 5]);
        Assert.NotEqual(a[0], c[0]);
    }

    [Fact]
    public void Sampler_visits_every_sample_once_per_epoch_and_oversamples_refed_ones()
    {
        var shard = Enumerable.Range(100, 50).ToArray();
        var sampler = new LocalBatchSampler(shard, new Dictionary<int, float>(), new DeterministicRng(1));
        var epoch = sampler.Next(50);
        Assert.Equal(shard, epoch.Order());

        var weighted = new LocalBatchSampler(shard, new Dictionary<int, float> { [100] = 3f, [101] = 1.5f }, new DeterministicRng(2));
        var draws = weighted.Next(52 * 200); // ~200 epochs of 52.5 draws
        double per100 = draws.Count(d => d == 100) / (double)draws.Count(d => d == 120);
        double per101 = draws.Count(d => d == 101) / (double)draws.Count(d => d == 120);
        Assert.InRange(per100, 2.9, 3.1);
        Assert.InRange(per101, 1.3, 1.7);
    }

    [Fact]
    public void Sampler_is_deterministic_from_its_seed()
    {
        var shard = Enumerable.Range(0, 37).ToArray();
        var a = new LocalBatchSampler(shard, new Dictionary<int, float> { [3] = 2f }, DeterministicRng.Derive(9, 1, 2));
        var b = new LocalBatchSampler(shard, new Dictionary<int, float> { [3] = 2f }, DeterministicRng.Derive(9, 1, 2));
        for (int i = 0; i < 10; i++) Assert.Equal(a.Next(8), b.Next(8));
    }

    [Fact]
    public void Balancer_splits_in_proportion_to_throughput_and_sums_to_the_global_batch()
    {
        var result = BatchBalancer.Balance(64, [new("fast", 300, 1000), new("slow", 100, 1000)]);
        Assert.Equal([48, 16], result);
        var three = BatchBalancer.Balance(100, [new("a", 1, 1000), new("b", 1, 1000), new("c", 1, 1000)]);
        Assert.Equal(100, three.Sum());
        Assert.All(three, b => Assert.InRange(b, 33, 34));
    }

    [Fact]
    public void Balancer_equalises_finishing_times_when_steps_have_a_fixed_cost()
    {
        // fast: 20 ms + 4 ms/sample; slow (a third of the speed): 60 ms + 12 ms/sample. Proportional would give slow 8.
        var result = BatchBalancer.Balance(32, [new("fast", 250, 1000, FixedMs: 20), new("slow", 250.0 / 3, 1000, FixedMs: 60)]);
        Assert.Equal(32, result.Sum());
        Assert.Equal([27, 5], result); // 26.5 and 5.5: the tie goes to the faster worker (finishing at 128 and 120 ms)
        double fast = 20 + result[0] * 4.0, slow = 60 + result[1] * 12.0;
        Assert.True(Math.Abs(fast - slow) <= 12, $"finishing times {fast} and {slow} ms differ by more than one slow sample");
        Assert.Equal([24, 8], BatchBalancer.Balance(32, [new("fast", 250, 1000), new("slow", 250.0 / 3, 1000)]));
        // A fixed cost so large that the worker is better off with the minimum still gets one sample.
        Assert.Equal([31, 1], BatchBalancer.Balance(32, [new("fast", 250, 1000, FixedMs: 0), new("slow", 250, 1000, FixedMs: 10_000)]));
    }

    [Fact]
    public void Balancer_respects_memory_limits_and_redistributes()
    {
        var result = BatchBalancer.Balance(64, [new("big-fast", 1000, 24), new("small", 100, 64), new("medium", 100, 64)]);
        Assert.Equal(24, result[0]);
        Assert.Equal(64, result.Sum());
        Assert.Equal(20, result[1]);
        Assert.Equal(20, result[2]);
    }

    [Fact]
    public void Balancer_gives_everyone_at_least_one_and_refuses_impossible_batches()
    {
        var result = BatchBalancer.Balance(4, [new("a", 1000, 64), new("b", 1, 64), new("c", 1, 64)]);
        Assert.Equal(4, result.Sum());
        Assert.All(result, b => Assert.True(b >= 1));
        var e = Assert.Throws<FaceClusterException>(() => BatchBalancer.Balance(100, [new("a", 1, 30), new("b", 1, 30)]));
        Assert.Contains("add up to 60", e.Message);
        Assert.Throws<FaceClusterException>(() => BatchBalancer.Balance(1, [new("a", 1, 30), new("b", 1, 30)]));
    }

    [Fact]
    public void Balancer_treats_unmeasured_workers_sensibly()
    {
        var result = BatchBalancer.Balance(30, [new("a", 0, 64), new("b", double.NaN, 64), new("c", 0, 64)]);
        Assert.Equal([10, 10, 10], result);
    }
}
