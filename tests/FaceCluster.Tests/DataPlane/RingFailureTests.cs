using FaceCluster.Tests.Support;
using FaceCluster.Common.DataPlane;

namespace FaceCluster.Tests.DataPlane;

/// <summary>A ring member that vanishes, stalls or is disposed makes every survivor throw within the timeout; nobody hangs.</summary>
[Trait("Tier", "unit")]
public class RingFailureTests
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_peer_closed_mid_step_makes_every_survivor_throw()
    {
        const int n = 4, victim = 3, count = 200_000;
        using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 16 * 1024 }, timeout: ShortTimeout);
        int[] survivors = [0, 1, 2];
        float[][] buffers = Enumerable.Range(0, n).Select(_ => new float[count]).ToArray();
        var runs = RingHarness.OnThreads(survivors, r => { ring.Sessions[r].AllReduceSum(buffers[r], count, step: 42); return r; });
        // The survivors are inside the step (they have sent their first chunk and wait); the victim's sockets close.
        await Task.Delay(200);
        ring.Sessions[victim].Dispose();
        await RingHarness.WithinGuard(Task.WhenAll(runs).ContinueWith(_ => { }));

        foreach (int r in survivors)
        {
            var error = Assert.IsType<AllReduceFailedException>(runs[r].Exception?.InnerException);
            Assert.Equal(1, error.Generation);
            Assert.Equal(42, error.Step);
            Assert.Contains("step 42", error.Message);
            Assert.Contains("generation 1", error.Message);
            Assert.Contains(error.PeerEndpoint, error.Message);
        }
        // Rank 0 receives from the victim: its error names the victim's endpoint.
        Assert.Equal(ring.Spec.MemberEndpoints[victim], ((AllReduceFailedException)runs[0].Exception!.InnerException!).PeerEndpoint);

        // The failed session stays unusable: a later call throws at once, without touching the network.
        var again = Assert.Throws<AllReduceFailedException>(() => ring.Sessions[0].AllReduceSum(buffers[0], count, step: 43));
        Assert.Contains("unusable", again.Message);
        Assert.Equal(43, again.Step);
    }

    [Fact]
    public async Task A_peer_that_stops_responding_fails_the_survivors_after_the_timeout()
    {
        const int n = 3, silent = 2, count = 10_000;
        using var ring = await RingHarness.StartAsync(n, timeout: ShortTimeout);
        float[][] buffers = Enumerable.Range(0, n).Select(_ => new float[count]).ToArray();
        var runs = RingHarness.OnThreads([0, 1], r => { ring.Sessions[r].AllReduceSum(buffers[r], count, step: 5); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs).ContinueWith(_ => { }));

        var first = Assert.IsType<AllReduceFailedException>(runs[0].Exception?.InnerException);
        Assert.Contains($"no data from predecessor rank {silent}", first.Message);
        Assert.Equal(ring.Spec.MemberEndpoints[silent], first.PeerEndpoint);
        Assert.IsType<AllReduceFailedException>(runs[1].Exception?.InnerException);
    }

    [Fact]
    public async Task Dispose_wakes_a_thread_blocked_in_AllReduceSum()
    {
        using var ring = await RingHarness.StartAsync(2, timeout: TimeSpan.FromMinutes(5));
        var buffer = new float[1000];
        var run = RingHarness.OnThreads([0], _ => { ring.Sessions[0].AllReduceSum(buffer, buffer.Length, step: 1); return 0; })[0];
        await Task.Delay(200);
        Assert.False(run.IsCompleted, "rank 0 should be waiting for rank 1");
        ring.Sessions[0].Dispose();
        // Far shorter than the session's 5-minute timeout: only Dispose can have ended the call.
        await RingHarness.WithinGuard(run.ContinueWith(_ => { }), TimeSpan.FromSeconds(20));
        var error = Assert.IsType<AllReduceFailedException>(run.Exception?.InnerException);
        Assert.Contains("disposed", error.Message);
        Assert.Throws<ObjectDisposedException>(() => ring.Sessions[0].AllReduceSum(buffer, buffer.Length, step: 2));
    }

    [Fact]
    public async Task Members_that_receive_the_ring_at_different_times_still_form_it()
    {
        using var ring = RingHarness.Create(3);
        var sessions = new RingSession?[3];
        try
        {
            var early = Enumerable.Range(0, 2).Select(r => ring.Endpoints[r].JoinRingAsync(ring.Spec, r, TimeSpan.FromSeconds(20))).ToList();
            await Task.Delay(500);
            Assert.DoesNotContain(early, t => t.IsCompleted);
            var late = ring.Endpoints[2].JoinRingAsync(ring.Spec, 2, TimeSpan.FromSeconds(20));
            var all = early.Append(late).ToArray();
            await RingHarness.WithinGuard(Task.WhenAll(all));
            for (int r = 0; r < 3; r++) sessions[r] = await all[r];
            float[][] buffers = [[1], [2], [4]];
            var runs = RingHarness.OnThreads([0, 1, 2], r => { sessions[r]!.AllReduceSum(buffers[r], 1, step: 0); return r; });
            await RingHarness.WithinGuard(Task.WhenAll(runs));
            Assert.All(buffers, b => Assert.Equal(7f, b[0]));
        }
        finally
        {
            foreach (var s in sessions) s?.Dispose();
        }
    }

    [Fact]
    public async Task Disposing_the_endpoint_disposes_its_sessions_and_the_ring_can_be_rejoined()
    {
        using var ring = await RingHarness.StartAsync(2, timeout: TimeSpan.FromSeconds(5));
        ring.Endpoints[1].Dispose();
        Assert.True(ring.Sessions[1].IsFaulted);
        var buffer = new float[100];
        var run = RingHarness.OnThreads([0], _ => { ring.Sessions[0].AllReduceSum(buffer, buffer.Length, step: 1); return 0; })[0];
        await RingHarness.WithinGuard(run.ContinueWith(_ => { }));
        Assert.IsType<AllReduceFailedException>(run.Exception?.InnerException);

        // The survivor joins the next generation with a fresh peer.
        var log = new ListLogger();
        using var replacement = RingHarness.NewEndpoint(log);
        var spec = new RingSpec(2, [ring.Endpoints[0].AdvertisedEndpoint, replacement.AdvertisedEndpoint]);
        var joins = new[] { ring.Endpoints[0].JoinRingAsync(spec, 0, TimeSpan.FromSeconds(10)), replacement.JoinRingAsync(spec, 1, TimeSpan.FromSeconds(10)) };
        await RingHarness.WithinGuard(Task.WhenAll(joins));
        using var s0 = await joins[0];
        using var s1 = await joins[1];
        float[][] buffers = [[1, 2, 3], [10, 20, 30]];
        var runs = RingHarness.OnThreads([0, 1], r => { (r == 0 ? s0 : s1).AllReduceSum(buffers[r], 3, step: 2); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs));
        Assert.Equal([11f, 22f, 33f], buffers[0]);
        Assert.Equal([11f, 22f, 33f], buffers[1]);
    }
}
