using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// A bounded, parallel, order-preserving prefetch pipeline of training batches.
/// <para>
/// A planner thread asks the callback for the sample ids of batch k = 0, 1, 2, … (null ends the stream),
/// at most <see cref="Depth"/> batches ahead of the consumer. Worker threads load (cache, or read and decode),
/// augment and convert every image of those batches in parallel; <see cref="Take"/> hands batches out in
/// order k = 0, 1, 2, … The augmentation of the image at slot n of batch k is seeded from (base seed, k, n),
/// so batches are identical whatever the worker count or thread timing.
/// </para>
/// <para>
/// Bad samples: a sample that cannot be read or decoded mid-training does not stop training. It is
/// reported through the bad-sample callback (<see cref="BadSample"/>, called on a worker thread), and its
/// slot is filled with another sample of the same batch: the next good slot after it (wrapping around),
/// augmented with the failed slot's own seed. <see cref="HostBatch.SampleIds"/> then names the substitute,
/// so losses are credited to the image actually trained on. A batch in which every sample fails is dropped
/// (each failure is still reported) and <see cref="Take"/> moves on to the next batch.
/// </para>
/// <para>Take is for one consumer thread. <see cref="Recycle"/> returns a used batch's arrays for reuse.
/// Dispose stops and joins all threads.</para>
/// </summary>
public sealed class BatchPipeline : IDisposable
{
    private readonly IFaceImageSource _source;
    private readonly Dictionary<int, FaceSample> _samples;
    private readonly DecodedImageCache? _cache;
    private readonly FaceAugmenter _augmenter;
    private readonly Func<long, int[]?> _batchSampleIds;
    private readonly Action<BadSample>? _onBadSample;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _ahead;
    private readonly BlockingCollection<Pending> _planned = new();
    private readonly BlockingCollection<(Pending Batch, int Position)> _work = new();
    private readonly Thread _planner;
    private readonly Thread[] _workers;
    private readonly object _takeGate = new();
    private readonly ConcurrentBag<float[]> _free = new();
    private int _freeCount;
    private long _badSamples;
    private int _disposed;
    private bool _stopping;

    /// <param name="source">Where image bytes come from.</param>
    /// <param name="samples">The samples batches may name (usually the manifest's).</param>
    /// <param name="cache">Decoded-image cache shared across epochs, or null to decode every time.</param>
    /// <param name="imageSize">Square side of the model input, in pixels.</param>
    /// <param name="kind">Reconstruction (warped input, clean target) or Plain (augmented input only).</param>
    /// <param name="augment">Augmentation; <see cref="AugmentOptions.None"/> for none.</param>
    /// <param name="baseSeed">Seed of all augmentation.</param>
    /// <param name="batchSampleIds">Sample ids of batch k, or null when there are no more batches. Called on
    /// the planner thread, in order, once per batch.</param>
    /// <param name="workers">Worker threads; 0 for <see cref="DefaultWorkers"/>.</param>
    /// <param name="depth">Batches prepared ahead of the consumer (at least 1).</param>
    /// <param name="onBadSample">Called (on a worker thread) for each sample that failed to load.</param>
    /// <param name="logger">Logs bad samples and callback failures.</param>
    public BatchPipeline(
        IFaceImageSource source,
        IEnumerable<FaceSample> samples,
        DecodedImageCache? cache,
        int imageSize,
        BatchKind kind,
        AugmentOptions augment,
        long baseSeed,
        Func<long, int[]?> batchSampleIds,
        int workers = 0,
        int depth = 4,
        Action<BadSample>? onBadSample = null,
        ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _source = source;
        _samples = samples.ToDictionary(s => s.Id);
        _cache = cache;
        ImageSize = imageSize;
        Kind = kind;
        BaseSeed = baseSeed;
        _augmenter = new FaceAugmenter(imageSize, augment);
        _batchSampleIds = batchSampleIds;
        _onBadSample = onBadSample;
        _logger = logger ?? NullLogger.Instance;
        Workers = workers == 0 ? DefaultWorkers : workers;
        Depth = depth;
        _ahead = new SemaphoreSlim(depth, depth);
        OpenCvLog.EnsureQuiet();

        _planner = new Thread(PlanLoop) { IsBackground = true, Name = "facecluster-batch-planner" };
        _workers = new Thread[Workers];
        for (int i = 0; i < Workers; i++)
            _workers[i] = new Thread(WorkLoop) { IsBackground = true, Name = $"facecluster-batch-worker-{i}" };
        _planner.Start();
        foreach (var t in _workers) t.Start();
    }

    /// <summary>Environment.ProcessorCount - 1, at least 1 (one core left for the consumer).</summary>
    public static int DefaultWorkers => Math.Max(1, Environment.ProcessorCount - 1);

    public int ImageSize { get; }

    public BatchKind Kind { get; }

    public long BaseSeed { get; }

    public int Workers { get; }

    public int Depth { get; }

    /// <summary>Samples that failed to load so far.</summary>
    public long BadSampleCount => Interlocked.Read(ref _badSamples);

    /// <summary>
    /// The next batch in order (k = 0, 1, 2, …), waiting for it if needed; null when the callback has
    /// returned null and every earlier batch was taken. An exception thrown by the batch callback is
    /// rethrown here, after the batches before it.
    /// </summary>
    public HostBatch? Take(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_takeGate)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            try
            {
                while (true)
                {
                    if (!_planned.TryTake(out var batch, Timeout.Infinite, linked.Token)) return null;
                    batch.Done.Wait(linked.Token);
                    _ahead.Release();
                    if (batch.Error is not null) ExceptionDispatchInfo.Throw(batch.Error);
                    if (batch.Result is not null) return batch.Result;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(BatchPipeline), "the pipeline was disposed while waiting for a batch");
            }
        }
    }

    /// <summary>
    /// Hands a taken batch's float arrays back for reuse by later batches (optional: without it every batch
    /// allocates new arrays, which at thousands of images a second is mostly garbage-collector work).
    /// The batch must not be used afterwards.
    /// </summary>
    public void Recycle(HostBatch batch)
    {
        if (batch.ImageSize != ImageSize) return;
        Give(batch.Inputs);
        if (batch.Targets is not null) Give(batch.Targets);
    }

    private void Give(float[] array)
    {
        if (Interlocked.Increment(ref _freeCount) > 2 * (Depth + 2))
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Add(array);
    }

    private float[] Rent(int length)
    {
        while (_free.TryTake(out var array))
        {
            Interlocked.Decrement(ref _freeCount);
            if (array.Length == length) return array;
        }
        return new float[length];
    }

    private void PlanLoop()
    {
        try
        {
            for (long k = 0; ; k++)
            {
                _ahead.Wait(_stop.Token);
                int[]? ids;
                try
                {
                    ids = _batchSampleIds(k);
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "The batch callback failed for batch {Batch}", k);
                    var failed = new Pending(k, [], 0, [], null) { Error = e };
                    failed.Done.Set();
                    _planned.Add(failed);
                    return;
                }
                if (ids is null) return;
                int length = ids.Length * 3 * ImageSize * ImageSize;
                var batch = new Pending(k, ids, ImageSize, Rent(length), Kind == BatchKind.Reconstruction ? Rent(length) : null);
                _planned.Add(batch);
                if (ids.Length == 0) Finish(batch);
                for (int n = 0; n < ids.Length; n++) _work.Add((batch, n));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or InvalidOperationException && Volatile.Read(ref _stopping))
        {
        }
        finally
        {
            try
            {
                _planned.CompleteAdding();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private void WorkLoop()
    {
        try
        {
            foreach (var (batch, position) in _work.GetConsumingEnumerable(_stop.Token))
            {
                int id = batch.Requested[position];
                try
                {
                    Render(batch, position, id);
                }
                catch (Exception e)
                {
                    if (Volatile.Read(ref _stopping)) return;
                    batch.Failures[position] = Classify(e, id);
                }
                if (Interlocked.Decrement(ref batch.Remaining) == 0) Finish(batch);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && Volatile.Read(ref _stopping))
        {
        }
    }

    /// <summary>Loads sample <paramref name="sampleId"/>, augments it with the seed of
    /// (batch, <paramref name="position"/>) and writes it into that slot.</summary>
    private void Render(Pending batch, int position, int sampleId)
    {
        if (!_samples.TryGetValue(sampleId, out var sample))
            throw new FaceImageException(RejectReason.Unreadable, $"no sample with id {sampleId} in the face set");
        using var image = Load(sample);
        using var clean = new Mat();
        using var warped = Kind == BatchKind.Reconstruction ? new Mat() : null;
        _augmenter.Apply(image, FaceAugmenter.SeedFor(BaseSeed, batch.Index, position), clean, warped);
        int offset = position * batch.Stride;
        if (warped is not null)
        {
            ImagePlanes.CopyToPlanes(warped, batch.Inputs, offset);
            ImagePlanes.CopyToPlanes(clean, batch.Targets!, offset);
        }
        else
            ImagePlanes.CopyToPlanes(clean, batch.Inputs, offset);
        batch.Actual[position] = sampleId;
    }

    private Mat Load(FaceSample sample)
    {
        int s = ImageSize;
        if (_cache is not null && _cache.TryGet(sample, s, out var pixels))
            return Mat.FromPixelData(s, s, MatType.CV_8UC3, pixels);
        byte[] bytes = _source.ReadBytes(sample);
        var decoded = FaceImageDecoder.Decode(bytes, s, sample.RelativePath);
        if (_cache is not null)
        {
            var copy = new byte[s * s * 3];
            Marshal.Copy(decoded.Data, copy, 0, copy.Length);
            _cache.Add(sample, s, copy);
        }
        return decoded;
    }

    private (RejectReason Reason, string Detail) Classify(Exception e, int sampleId)
    {
        switch (e)
        {
            case FaceImageException fe:
                return (fe.Reason, fe.Message);
            case IOException or UnauthorizedAccessException:
                return (RejectReason.Unreadable, e.Message);
            default:
                _logger.LogWarning(e, "Sample {Id} failed with an unexpected error", sampleId);
                return (RejectReason.NotAnImage, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Runs on the thread that completed the batch's last slot: fills failed slots, reports them,
    /// and releases the batch to <see cref="Take"/>.</summary>
    private void Finish(Pending batch)
    {
        try
        {
            int count = batch.Requested.Length;
            var reports = new List<BadSample>();
            var good = new List<int>();
            for (int n = 0; n < count; n++)
                if (batch.Failures[n] is null) good.Add(n);
            for (int n = 0; n < count; n++)
            {
                if (batch.Failures[n] is not { } failure) continue;
                int? substitute = good.Count == 0 ? null : FillSlot(batch, n, good);
                reports.Add(new BadSample(batch.Requested[n], batch.Index, n, failure.Reason, failure.Detail, substitute));
            }
            foreach (var report in reports)
            {
                Interlocked.Increment(ref _badSamples);
                _logger.LogWarning("Bad sample {Id} in batch {Batch} slot {Slot}: {Reason}: {Detail}",
                    report.SampleId, report.BatchIndex, report.Position, report.Reason, report.Detail);
                try
                {
                    _onBadSample?.Invoke(report);
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "The bad-sample callback failed for sample {Id}", report.SampleId);
                }
            }
            if (count == 0 || good.Count > 0)
                batch.Result = new HostBatch(count, ImageSize, batch.Actual, batch.Inputs, batch.Targets)
                {
                    BatchIndex = batch.Index,
                    BadSamples = reports,
                };
        }
        catch (Exception e)
        {
            batch.Error = e;
        }
        finally
        {
            batch.Done.Set();
        }
    }

    /// <summary>Fills failed slot <paramref name="slot"/> with the next good slot's sample (wrapping around),
    /// augmented with the failed slot's seed; if that sample fails too, the next, and as a last resort a copy
    /// of a good slot's pixels.</summary>
    private int FillSlot(Pending batch, int slot, List<int> good)
    {
        int start = good.FindIndex(g => g > slot);
        if (start < 0) start = 0;
        for (int i = 0; i < good.Count; i++)
        {
            int candidate = batch.Requested[good[(start + i) % good.Count]];
            try
            {
                Render(batch, slot, candidate);
                return candidate;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogDebug(e, "Substitute {Id} failed for batch {Batch} slot {Slot}", candidate, batch.Index, slot);
            }
        }
        int from = good[start];
        Array.Copy(batch.Inputs, from * batch.Stride, batch.Inputs, slot * batch.Stride, batch.Stride);
        if (batch.Targets is not null)
            Array.Copy(batch.Targets, from * batch.Stride, batch.Targets, slot * batch.Stride, batch.Stride);
        batch.Actual[slot] = batch.Actual[from];
        return batch.Actual[from];
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Volatile.Write(ref _stopping, true);
        _stop.Cancel();
        var deadline = TimeSpan.FromSeconds(30);
        if (!_planner.Join(deadline))
            _logger.LogWarning("The batch planner did not stop within {Seconds} s (the batch callback is still running)", deadline.TotalSeconds);
        foreach (var t in _workers)
            if (!t.Join(deadline))
                _logger.LogWarning("Batch worker {Name} did not stop within {Seconds} s", t.Name, deadline.TotalSeconds);
        _augmenter.Dispose();
        _work.Dispose();
        _planned.Dispose();
        _ahead.Dispose();
        _stop.Dispose();
    }

    private sealed class Pending
    {
        public Pending(long index, int[] requested, int imageSize, float[] inputs, float[]? targets)
        {
            Index = index;
            Requested = requested;
            Actual = (int[])requested.Clone();
            Stride = 3 * imageSize * imageSize;
            Inputs = inputs;
            Targets = targets;
            Failures = new (RejectReason, string)?[requested.Length];
            Remaining = requested.Length;
        }

        public long Index { get; }
        public int[] Requested { get; }
        public int[] Actual { get; }
        public int Stride { get; }
        public float[] Inputs { get; }
        public float[]? Targets { get; }
        public (RejectReason Reason, string Detail)?[] Failures { get; }
        public int Remaining;
        public ManualResetEventSlim Done { get; } = new(false);
        public HostBatch? Result { get; set; }
        public Exception? Error { get; set; }
    }
}
