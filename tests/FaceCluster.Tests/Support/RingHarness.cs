using System.Net;
using FaceCluster.Common.DataPlane;

namespace FaceCluster.Tests.Support;

/// <summary>n data-plane endpoints on 127.0.0.1 (ephemeral ports) that have joined one ring; disposes everything.</summary>
internal sealed class RingHarness : IDisposable
{
    public static readonly byte[] Secret = "facecluster test secret 7f3a9c"u8.ToArray();

    /// <summary>Generous upper bound for anything that should finish: a hang fails the test instead of blocking the suite.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private RingHarness(DataPlaneEndpoint[] endpoints, ListLogger[] logs, RingSpec spec)
    {
        Endpoints = endpoints;
        Logs = logs;
        Spec = spec;
    }

    public DataPlaneEndpoint[] Endpoints { get; }
    public ListLogger[] Logs { get; }
    public RingSpec Spec { get; }
    public RingSession[] Sessions { get; private set; } = [];
    public int Size => Endpoints.Length;

    public static DataPlaneEndpoint NewEndpoint(ListLogger log, DataPlaneOptions? options = null, byte[]? secret = null) =>
        new(IPAddress.Loopback, 0, secret ?? Secret, log, options, advertisedHost: "127.0.0.1");

    /// <summary>Creates n endpoints without joining a ring.</summary>
    public static RingHarness Create(int n, DataPlaneOptions? options = null, long generation = 1)
    {
        var logs = Enumerable.Range(0, n).Select(_ => new ListLogger()).ToArray();
        var endpoints = new List<DataPlaneEndpoint>();
        try
        {
            for (int i = 0; i < n; i++) endpoints.Add(NewEndpoint(logs[i], options));
        }
        catch
        {
            foreach (var e in endpoints) e.Dispose();
            throw;
        }
        var spec = new RingSpec(generation, endpoints.Select(e => e.AdvertisedEndpoint).ToArray());
        return new RingHarness([.. endpoints], logs, spec);
    }

    /// <summary>Creates n endpoints and joins them all to one ring.</summary>
    public static async Task<RingHarness> StartAsync(int n, DataPlaneOptions? options = null, TimeSpan? timeout = null, long generation = 1)
    {
        var harness = Create(n, options, generation);
        try
        {
            TimeSpan limit = timeout ?? TimeSpan.FromSeconds(10);
            var joins = Enumerable.Range(0, n).Select(r => harness.Endpoints[r].JoinRingAsync(harness.Spec, r, limit)).ToArray();
            await WithinGuard(Task.WhenAll(joins));
            harness.Sessions = await Task.WhenAll(joins);
            return harness;
        }
        catch
        {
            harness.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="body"/> for every listed rank, each on its own thread.</summary>
    public static Task<T>[] OnThreads<T>(IEnumerable<int> ranks, Func<int, T> body) =>
        ranks.Select(r => Task.Factory.StartNew(() => body(r), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

    /// <summary>Waits for all tasks, failing the test (instead of hanging) when they take longer than <paramref name="limit"/>.</summary>
    public static async Task WithinGuard(Task task, TimeSpan? limit = null)
    {
        TimeSpan guard = limit ?? HangGuard;
        Task first = await Task.WhenAny(task, Task.Delay(guard));
        Assert.True(first == task, $"did not finish within {guard.TotalSeconds} s (hang)");
    }

    public void Dispose()
    {
        foreach (var session in Sessions) session.Dispose();
        foreach (var endpoint in Endpoints) endpoint.Dispose();
    }
}
