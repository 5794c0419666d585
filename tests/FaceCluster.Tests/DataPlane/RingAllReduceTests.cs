using FaceCluster.Tests.Support;
using FaceCluster.Common.DataPlane;

namespace FaceCluster.Tests.DataPlane;

/// <summary>Ring all-reduce results against a naive double-precision sum, for many ring sizes and buffer sizes.</summary>
[Trait("Tier", "unit")]
public class RingAllReduceTests
{
    private const float Sentinel = 12345.5f;

    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        for (int n = 1; n <= 5; n++)
        {
            foreach (int count in new[] { 1, 2, 7, 1000, 1_000_003 }) data.Add(n, count);
            if (n >= 4) data.Add(n, n - 1);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AllReduceSum_equals_the_naive_sum(int n, int count)
    {
        // Small counts use tiny segments so that chunks are cut into several pipelined segments.
        var options = new DataPlaneOptions { SegmentBytes = count >= 100_000 ? 256 * 1024 : 256 };
        using var ring = await RingHarness.StartAsync(n, options);
        float[][] buffers = Enumerable.Range(0, n).Select(r => RandomBuffer(count, seed: 1000 * n + r)).ToArray();
        (double[] expected, double[] magnitude) = NaiveSum(buffers, count);

        var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllReduceSum(buffers[r], count, step: 1); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs));

        AssertSums(buffers, count, expected, magnitude);
    }

    [Fact]
    public async Task Repeated_steps_on_one_session_stay_correct_and_count_their_bytes()
    {
        const int n = 3, count = 10_007, steps = 8;
        using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 4096 });
        for (int step = 0; step < steps; step++)
        {
            float[][] buffers = Enumerable.Range(0, n).Select(r => RandomBuffer(count, seed: 77 * step + r)).ToArray();
            (double[] expected, double[] magnitude) = NaiveSum(buffers, count);
            long stepNumber = 500 + step;
            var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllReduceSum(buffers[r], count, stepNumber); return r; });
            await RingHarness.WithinGuard(Task.WhenAll(runs));
            AssertSums(buffers, count, expected, magnitude);

            // Every chunk travels 2(n-1) hops: the ring's minimum, and what each rank's successor received.
            long payload = ring.Sessions.Sum(s => s.LastStats!.PayloadBytesSent);
            Assert.Equal(2L * (n - 1) * count * sizeof(float), payload);
            for (int r = 0; r < n; r++)
            {
                AllReduceStats stats = ring.Sessions[r].LastStats!;
                Assert.Equal(stepNumber, stats.Step);
                Assert.True(stats.BytesSent > stats.PayloadBytesSent, "frame headers are counted in BytesSent");
                Assert.Equal(stats.BytesSent, ring.Sessions[(r + 1) % n].LastStats!.BytesReceived);
            }
        }
        foreach (var session in ring.Sessions)
        {
            Assert.Equal(steps, session.Totals.Calls);
            Assert.False(session.IsFaulted);
        }
    }

    [Fact]
    public async Task A_single_member_ring_leaves_the_buffer_as_it_is()
    {
        using var ring = await RingHarness.StartAsync(1);
        float[] buffer = RandomBuffer(1000, seed: 3);
        float[] before = [.. buffer];
        ring.Sessions[0].AllReduceSum(buffer, 1000, step: 9);
        Assert.Equal(before, buffer);
        Assert.Equal(0, ring.Sessions[0].LastStats!.BytesSent);
    }

    [Fact]
    public async Task A_peer_on_another_step_fails_every_rank_loudly()
    {
        const int n = 3, count = 5000;
        using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 1024 }, timeout: TimeSpan.FromSeconds(5));
        float[][] buffers = Enumerable.Range(0, n).Select(r => RandomBuffer(count, seed: r)).ToArray();
        var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllReduceSum(buffers[r], count, step: r == 1 ? 8 : 7); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs).ContinueWith(_ => { }));

        for (int r = 0; r < n; r++)
        {
            var error = Assert.IsType<AllReduceFailedException>(runs[r].Exception?.InnerException);
            Assert.Equal(1, error.Generation);
        }
        // Ranks 1 and 2 each receive frames for the other step; whichever checks first names it, the rest see its sockets close.
        var messages = runs.Select(t => t.Exception!.InnerException!.Message).ToList();
        Assert.Contains(messages, m => m.Contains("out of step") && m.Contains("expected frame (generation 1, step"));
        Assert.All(ring.Sessions, s => Assert.True(s.IsFaulted));
    }

    [Fact]
    public async Task Peers_with_different_counts_fail_instead_of_summing()
    {
        const int n = 2;
        using var ring = await RingHarness.StartAsync(n, timeout: TimeSpan.FromSeconds(5));
        float[][] buffers = [RandomBuffer(100, 1), RandomBuffer(101, 2)];
        var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllReduceSum(buffers[r], buffers[r].Length, step: 1); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs).ContinueWith(_ => { }));
        Assert.All(runs, t => Assert.IsType<AllReduceFailedException>(t.Exception?.InnerException));
        Assert.Contains(runs, t => t.Exception!.InnerException!.Message.Contains("out of step"));
    }

    private static float[] RandomBuffer(int count, int seed)
    {
        var random = new Random(seed);
        var buffer = new float[count + 3];
        for (int i = 0; i < count; i++) buffer[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 4)));
        buffer[count] = buffer[count + 1] = buffer[count + 2] = Sentinel;
        return buffer;
    }

    private static (double[] Sum, double[] Magnitude) NaiveSum(float[][] buffers, int count)
    {
        var sum = new double[count];
        var magnitude = new double[count];
        foreach (float[] buffer in buffers)
            for (int i = 0; i < count; i++)
            {
                sum[i] += buffer[i];
                magnitude[i] += Math.Abs(buffer[i]);
            }
        return (sum, magnitude);
    }

    private static void AssertSums(float[][] buffers, int count, double[] expected, double[] magnitude)
    {
        int n = buffers.Length;
        for (int r = 0; r < n; r++)
        {
            float[] got = buffers[r];
            for (int i = 0; i < count; i++)
            {
                // n-1 float additions in some order: each rounds by at most half an ulp of a partial sum.
                double tolerance = n * (double)float.Epsilon + n * 1.2e-7 * magnitude[i];
                if (Math.Abs(got[i] - expected[i]) > tolerance)
                    Assert.Fail($"rank {r} element {i}: {got[i]} but the naive sum is {expected[i]} (tolerance {tolerance})");
            }
            Assert.Equal(Sentinel, got[count]);
            Assert.Equal(Sentinel, got[count + 2]);
            // Every replica must end with exactly the same bits, or the replicas drift apart.
            Assert.True(got.AsSpan(0, count).SequenceEqual(buffers[0].AsSpan(0, count)), $"rank {r} differs from rank 0");
        }
    }
}
