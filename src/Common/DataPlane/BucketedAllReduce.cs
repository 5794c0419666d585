using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using FaceCluster.Common.Models.Training;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// A step's all-reduce bucket by bucket, overlapped with backward: the thread that runs backward reports each bucket
/// as it is complete (<see cref="Ready"/>), and this object's own thread reduces it over the ring at once, the sharded
/// update of the rank's range inside, while backward computes the next bucket (PyTorch DDP's gradient buckets). The
/// buckets travel in one order on every rank, each cut among the ranks by its own <see cref="ShardLayout"/>.
/// <para>
/// With <c>overlap: false</c> the same buckets are reduced the same way after backward, on the calling thread (the
/// serial step): the same bits, in a different timeline. A failed bucket fails the step: <see cref="WaitStep"/>
/// rethrows it once every bucket reported so far is done or skipped. Disposing after a failure elsewhere (backward
/// threw) disposes the ring session if a bucket is still in flight, so that nothing writes the buffers afterwards.
/// </para>
/// </summary>
public sealed class BucketedAllReduce : IDisposable
{
    private readonly RingSession _ring;
    private readonly IReadOnlyList<GradientBucket> _buckets;
    private readonly ShardLayout[] _layouts;
    private readonly float[] _buffer;
    private readonly Action<int, int>? _onOwnedReduced;
    private readonly WireFormat _wire;
    private readonly bool _overlap;
    private readonly BlockingCollection<(long Step, int Bucket)> _work = new();
    private readonly SemaphoreSlim _finished = new(0);
    private readonly Thread? _thread;
    private Exception? _failure;
    private int _reported;
    private long _busyTicks;
    private long _busyDuringBackwardTicks;
    private long _backwardEnded = long.MaxValue;
    private int _disposed;
    private readonly object _gate = new();
    private bool _stopping;
    private bool _inFlight;

    /// <param name="weights">Each rank's share of every bucket (its local batch): the ranges it updates.</param>
    public BucketedAllReduce(RingSession ring, IReadOnlyList<GradientBucket> buckets, IReadOnlyList<double> weights, float[] buffer,
        Action<int, int>? onOwnedReduced, WireFormat wire, bool overlap)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (buckets.Count == 0) throw new ArgumentException("at least one bucket", nameof(buckets));
        int end = 0;
        foreach (var b in buckets.OrderBy(b => b.Offset))
        {
            if (b.Offset != end || b.Count < 0) throw new ArgumentException($"the buckets must tile the buffer without gaps or overlaps ({string.Join(", ", buckets)})", nameof(buckets));
            end += b.Count;
        }
        if (end > buffer.Length) throw new ArgumentException($"the buckets cover {end} values, the buffer holds {buffer.Length}", nameof(buckets));
        _ring = ring;
        _buckets = buckets;
        _layouts = buckets.Select(b => ShardLayout.Proportional(b.Count, weights)).ToArray();
        _buffer = buffer;
        _onOwnedReduced = onOwnedReduced;
        _wire = wire;
        _overlap = overlap && ring.Size > 1;
        if (_overlap)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = $"fc-buckets g{ring.Generation} r{ring.Rank}" };
            _thread.Start();
        }
    }

    public IReadOnlyList<GradientBucket> Buckets => _buckets;

    /// <summary>True when buckets are reduced on their own thread while backward runs.</summary>
    public bool Overlapped => _overlap;

    /// <summary>
    /// The all-gather of a vector cut as the buckets were owned (each bucket by its layout): what brings every rank's
    /// optimizer moments of its own ranges to all. On the calling thread, between steps.
    /// </summary>
    public void AllGather(float[] vector, long step)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        for (int b = 0; b < _buckets.Count; b++)
            _ring.AllGather(vector, _buckets[b].Offset, _buckets[b].Count, step, _layouts[b]);
    }

    /// <summary>Starts a step: every bucket must then be reported, in order, before <see cref="WaitStep"/>.</summary>
    public void BeginStep()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _reported = 0;
        Interlocked.Exchange(ref _busyTicks, 0);
        Interlocked.Exchange(ref _busyDuringBackwardTicks, 0);
        Interlocked.Exchange(ref _backwardEnded, long.MaxValue);
        _failure = null;
    }

    /// <summary>Bucket <paramref name="bucket"/> of step <paramref name="step"/> is complete in host memory: reduce it (overlapped: at once, on this object's thread).</summary>
    public void Ready(long step, int bucket)
    {
        if (bucket != _reported) throw new InvalidOperationException($"bucket {bucket} reported where bucket {_reported} was due");
        _reported++;
        if (_overlap) _work.Add((step, bucket));
    }

    /// <summary>
    /// Backward is done: waits for every bucket of <paramref name="step"/> (serial: reduces them now) and rethrows the
    /// first failure. The time it waited is the all-reduce the step could not hide.
    /// </summary>
    public void WaitStep(long step)
    {
        if (_reported != _buckets.Count) throw new InvalidOperationException($"{_reported} of {_buckets.Count} buckets were reported");
        Interlocked.Exchange(ref _backwardEnded, Stopwatch.GetTimestamp());
        if (!_overlap)
        {
            for (int b = 0; b < _buckets.Count; b++) Reduce(step, b);
            return;
        }
        for (int b = 0; b < _buckets.Count; b++) _finished.Wait();
        if (_failure is { } failure) ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>Time this step spent in the buckets' all-reduces (updates inside), and how much of it ran while backward was still running.</summary>
    public (TimeSpan Busy, TimeSpan DuringBackward) StepTimes =>
        (Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _busyTicks)), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _busyDuringBackwardTicks)));

    private void Run()
    {
        foreach (var (step, bucket) in _work.GetConsumingEnumerable())
        {
            try
            {
                lock (_gate)
                {
                    if (_stopping) continue; // disposed: nothing more touches the buffers
                    _inFlight = true;
                }
                if (_failure is null) Reduce(step, bucket); // after a failed bucket the others of the step are skipped
            }
            catch (Exception e)
            {
                _failure = e;
            }
            finally
            {
                lock (_gate) _inFlight = false;
                _finished.Release();
            }
        }
    }

    private void Reduce(long step, int bucket)
    {
        long started = Stopwatch.GetTimestamp();
        var b = _buckets[bucket];
        try
        {
            _ring.AllReduceSum(_buffer, b.Offset, b.Count, step, _layouts[bucket], _onOwnedReduced, _wire);
        }
        finally
        {
            long ended = Stopwatch.GetTimestamp();
            Interlocked.Add(ref _busyTicks, ended - started);
            long backwardEnded = Interlocked.Read(ref _backwardEnded);
            if (started < backwardEnded) Interlocked.Add(ref _busyDuringBackwardTicks, Math.Min(ended, backwardEnded) - started);
        }
    }

    /// <summary>
    /// Stops the thread. A bucket still in flight (backward failed before it reported the rest) is ended by disposing
    /// the ring session, which fails that collective at once: when this returns, nothing writes the buffers any more.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        bool inFlight;
        lock (_gate)
        {
            _stopping = true;
            inFlight = _inFlight;
        }
        if (inFlight) _ring.Dispose();
        _work.CompleteAdding();
        _thread?.Join();
        _work.Dispose();
        _finished.Dispose();
    }
}
