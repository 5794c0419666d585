using FaceCluster.Tests.Support;
using FaceCluster.Common.DataPlane;

namespace FaceCluster.Tests.DataPlane;

/// <summary>
/// The ring with ranges in proportion to weights: the owned-range hook between reduce-scatter and all-gather (the
/// sharded optimizer update) and the gather alone (the exchange of optimizer moments).
/// </summary>
[Trait("Tier", "unit")]
public class ShardedRingTests
{
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        for (int n = 1; n <= 5; n++)
            foreach (int count in new[] { 1, 7, 1001, 100_003 }) data.Add(n, count);
        return data;
    }

    private static double[] Weights(int n) => Enumerable.Range(0, n).Select(r => r == 1 ? 0.25 : 1.0 + r).ToArray();

    [Fact]
    public void Equal_layout_cuts_as_the_classic_ring_and_proportional_ranges_follow_the_weights()
    {
        var equal = ShardLayout.Equal(10, 3);
        Assert.Equal([(4, 3), (7, 3), (0, 4)], Enumerable.Range(0, 3).Select(equal.RangeOf).ToArray()); // rank r owns chunk r+1

        var layout = ShardLayout.Proportional(1000, [3.0, 1.0]);
        Assert.Equal(750, layout.RangeOf(0).Length);
        Assert.Equal(250, layout.RangeOf(1).Length);
        var ranges = Enumerable.Range(0, 4).Select(ShardLayout.Proportional(1003, [1.0, 0.0, double.NaN, 2.5]).RangeOf).OrderBy(x => x.Offset).ToArray();
        Assert.Equal(0, ranges[0].Offset);
        for (int i = 1; i < ranges.Length; i++) Assert.Equal(ranges[i - 1].Offset + ranges[i - 1].Length, ranges[i].Offset); // contiguous, disjoint
        Assert.Equal(1003, ranges.Sum(x => x.Length));
        Assert.Equal([287, 0, 0, 716], Enumerable.Range(0, 4).Select(r => ShardLayout.Proportional(1003, [1.0, 0.0, double.NaN, 2.5]).RangeOf(r).Length).ToArray());
        Assert.Equal(ShardLayout.Equal(9, 3), ShardLayout.Proportional(9, [0.0, -1.0, double.PositiveInfinity])); // no usable weight: equal
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_hook_sees_exactly_its_own_reduced_range_and_every_rank_ends_with_what_the_owners_wrote(int n, int count)
    {
        var options = new DataPlaneOptions { SegmentBytes = count >= 100_000 ? 64 * 1024 : 256 };
        using var ring = await RingHarness.StartAsync(n, options);
        var layout = ShardLayout.Proportional(count, Weights(n));
        float[][] buffers = Enumerable.Range(0, n).Select(r => Buffer(count, seed: 10 * n + r)).ToArray();
        var sum = new double[count];
        foreach (var b in buffers) for (int i = 0; i < count; i++) sum[i] += b[i];
        var seen = Enumerable.Range(0, n).Select(_ => new List<(int Offset, int Length)>()).ToArray();

        var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r =>
        {
            ring.Sessions[r].AllReduceSum(buffers[r], count, step: 3, layout, (offset, length) =>
            {
                seen[r].Add((offset, length));
                // Owner's transform of the reduced values, as an optimizer update would be: here 2·sum + rank.
                for (int i = offset; i < offset + length; i++) buffers[r][i] = 2 * buffers[r][i] + r;
            });
            return r;
        });
        await RingHarness.WithinGuard(Task.WhenAll(runs));

        for (int r = 0; r < n; r++)
        {
            var (offset, length) = layout.RangeOf(r);
            var covered = seen[r].OrderBy(s => s.Offset).ToArray();
            Assert.Equal(length, covered.Sum(s => s.Length));
            if (length > 0) Assert.Equal(offset, covered[0].Offset);
            for (int k = 1; k < covered.Length; k++) Assert.Equal(covered[k - 1].Offset + covered[k - 1].Length, covered[k].Offset);
        }
        for (int owner = 0; owner < n; owner++)
        {
            var (offset, length) = layout.RangeOf(owner);
            for (int i = offset; i < offset + length; i++)
            {
                double expected = 2 * sum[i] + owner;
                if (Math.Abs(buffers[0][i] - expected) > 1e-4 * (1 + Math.Abs(expected)))
                    Assert.Fail($"element {i} (owned by rank {owner}): {buffers[0][i]}, expected {expected}");
            }
        }
        for (int r = 1; r < n; r++)
            Assert.True(buffers[r].AsSpan(0, count).SequenceEqual(buffers[0].AsSpan(0, count)), $"rank {r} differs from rank 0");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AllGather_gives_every_rank_each_owners_range(int n, int count)
    {
        using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 256 });
        var layout = ShardLayout.Proportional(count, Weights(n));
        // Rank r's buffer holds r+1 in its own range and garbage elsewhere.
        float[][] buffers = Enumerable.Range(0, n).Select(r =>
        {
            var b = Enumerable.Repeat(-7f, count).ToArray();
            var (offset, length) = layout.RangeOf(r);
            Array.Fill(b, r + 1f, offset, length);
            return b;
        }).ToArray();

        var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllGather(buffers[r], count, step: 4, layout); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs));

        var expected = new float[count];
        for (int owner = 0; owner < n; owner++) { var (offset, length) = layout.RangeOf(owner); Array.Fill(expected, owner + 1f, offset, length); }
        for (int r = 0; r < n; r++) Assert.Equal(expected, buffers[r]);
        if (n > 1) Assert.Equal((long)count * sizeof(float) * (n - 1), ring.Sessions.Sum(s => s.LastStats!.PayloadBytesSent)); // each range travels n-1 hops
    }

    [Fact]
    public async Task Ranks_with_different_layouts_fail_instead_of_mixing_ranges()
    {
        using var ring = await RingHarness.StartAsync(2, timeout: TimeSpan.FromSeconds(5));
        float[][] buffers = [Buffer(100, 1), Buffer(100, 2)];
        ShardLayout[] layouts = [ShardLayout.Proportional(100, [1.0, 1.0]), ShardLayout.Proportional(100, [3.0, 1.0])];
        var runs = RingHarness.OnThreads(Enumerable.Range(0, 2), r => { ring.Sessions[r].AllReduceSum(buffers[r], 100, 1, layouts[r], null); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs).ContinueWith(_ => { }));
        Assert.All(runs, t => Assert.IsType<AllReduceFailedException>(t.Exception?.InnerException));
    }

    private static float[] Buffer(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
