using System.Collections.Concurrent;
using System.Diagnostics;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Planning;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Randomness;
using FaceCluster.Common.Torch;
using FaceCluster.GpuWorker.Devices;
using TorchSharp;

namespace FaceCluster.GpuWorker.Training;

/// <summary>
/// One worker's replica and its training loop, on one dedicated thread (libtorch work and dispose scopes stay
/// on that thread). It outlives actor systems: a worker that rejoins after a coordinator restart keeps its
/// replica. Its actor hands it plans; it runs steps autonomously, synchronised with its peers by the
/// all-reduce, and reports each completed step.
/// </summary>
public sealed class WorkerEngine : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly ILogger _log;
    private readonly byte[] _secret;
    private ReplicaTrainer? _trainer;
    private IFaceSetView? _faceSet;
    private RunSpec? _run;
    private long _stopAt = long.MaxValue;
    private long _stopGeneration = -1;
    private long _abortGeneration = -1;
    private RingSession? _ring;
    private (long Generation, CancellationTokenSource Cancel)? _segmentAbort;
    private readonly object _ringGate = new();
    private byte[]? _publishedState;
    private long _publishedStep = -1;
    private volatile bool _disposed;
    private DeviceReport? _capacity;
    private DeviceTelemetryReader? _telemetry;
    private int _unexpectedInARow;

    public WorkerEngine(WorkerEngineOptions options, WorkerDevice device, DataPlaneEndpoint endpoint, byte[] secret, ILogger logger)
    {
        Options = options;
        Device = device;
        Endpoint = endpoint;
        _secret = secret;
        _log = logger;
        _thread = new Thread(Loop) { IsBackground = true, Name = "train-" + options.WorkerId };
        _thread.Start();
        Endpoint.SetStateProvider(() =>
        {
            var state = Volatile.Read(ref _publishedState);
            return state == null ? null : new StateSnapshot(Interlocked.Read(ref _publishedStep), state);
        });
    }

    public WorkerEngineOptions Options { get; }
    public string WorkerId => Options.WorkerId;
    public WorkerDevice Device { get; }
    public DataPlaneEndpoint Endpoint { get; }
    public RunSpec? Run => _run;

    /// <summary>Updates applied by the replica; -1 before the run is configured.</summary>
    public long ReplicaStep => _trainer?.Step ?? -1;

    /// <summary>The losses of completed steps that no ledger has confirmed on disk yet (kept across cluster sessions).</summary>
    public LossOutbox Outbox { get; } = new();

    /// <summary>True while a segment runs.</summary>
    public bool Busy { get; private set; }

    private void Loop()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            try { item(); }
            catch (Exception e) { _log.LogError(e, "Worker {Worker}: unexpected error on the training thread", WorkerId); }
        }
    }

    private Task<T> OnThread<T>(Func<T> body)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_disposed) { tcs.SetException(new ObjectDisposedException(nameof(WorkerEngine))); return tcs.Task; }
        _work.Add(() =>
        {
            try { tcs.SetResult(body()); }
            catch (Exception e) { tcs.SetException(e); }
        });
        return tcs.Task;
    }

    /// <summary>Builds the replica for <paramref name="run"/> (same seed on every worker: identical initial weights).</summary>
    public Task<string> Configure(RunSpec run, IFaceSetView faceSet) => OnThread(() =>
    {
        if (_run != null && _trainer != null && SameModel(_run, run))
        {
            _faceSet = faceSet; // rejoining the same run keeps the replica and its step
            _run = run;
            return _trainer.ParameterChecksum();
        }
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreads(Options.Threads);
        var previousModel = _trainer?.Model;
        _trainer?.Dispose();
        previousModel?.Dispose();
        var preset = ModelPreset.Parse(run.Preset);
        var model = FaceModelFactory.Create(FaceModelFactory.ParseKind(run.ModelKind), preset, run.Labels, run.Seed, run.SsimWeight);
        _trainer = new ReplicaTrainer(model, Device.Device, new TrainerOptions(run.LearningRate)
        {
            UpdateThreads = Device.Device.type == DeviceType.CPU ? Math.Max(1, Options.Threads) : Environment.ProcessorCount,
            UpdateOn = UpdatePlacements.Resolve(Options.UpdateOn, Device.Device),
        });
        _faceSet = faceSet;
        _run = run;
        _log.LogInformation("Worker {Worker}: {Kind} model, preset {Preset}, {Parameters:N0} parameters on {Device}, update on the {UpdateOn}, host buffers {HostBuffers}, all-reduce {Overlap}",
            WorkerId, run.ModelKind, preset.Name, _trainer.ParameterCount, Device, _trainer.UpdateOn.Name(), _trainer.HostBuffers,
            Options.Overlap ? "overlapped with backward" : "after backward");
        return _trainer.ParameterChecksum();
    });

    private static bool SameModel(RunSpec a, RunSpec b) =>
        a.RunId == b.RunId && a.ModelKind == b.ModelKind && a.Preset == b.Preset && a.Labels.SequenceEqual(b.Labels) && a.Seed == b.Seed;

    /// <summary>Measures throughput on the run's model and probes the largest batch that fits.</summary>
    public Task<DeviceReport> Calibrate() => OnThread(() =>
    {
        var trainer = _trainer ?? throw new InvalidOperationException("configure the run before calibrating");
        var result = DeviceCalibrator.Calibrate(trainer, Device, Options.MaxBatch, _log);
        _capacity = new DeviceReport(Device.Kind, Device.Index, Device.Vendor, Device.Name, Device.MemoryBytes, result.SamplesPerSecond, result.MaxBatch, Device.Note);
        return _capacity;
    });

    /// <summary>Serves the replica's state on the data plane (for a checkpoint, or a peer that resyncs).</summary>
    public Task<StateReady> PublishState() => OnThread(() =>
    {
        var trainer = _trainer ?? throw new InvalidOperationException("no replica to publish");
        var bytes = trainer.ExportState();
        Interlocked.Exchange(ref _publishedStep, trainer.Step);
        Volatile.Write(ref _publishedState, bytes);
        return new StateReady(WorkerId, trainer.Step, Endpoint.AdvertisedEndpoint, trainer.ParameterChecksum());
    });

    /// <summary>The replica's parameter checksum.</summary>
    public Task<string> Checksum() => OnThread(() => _trainer?.ParameterChecksum() ?? "");

    /// <summary>Stop after completing <paramref name="step"/> (0-based index) in <paramref name="generation"/>.</summary>
    public void StopAt(long generation, long step)
    {
        Interlocked.Exchange(ref _stopGeneration, generation);
        Interlocked.Exchange(ref _stopAt, step);
    }

    /// <summary>Abandons the running segment of <paramref name="generation"/> (unblocks a waiting all-reduce).</summary>
    public void Abort(long generation)
    {
        Interlocked.Exchange(ref _abortGeneration, generation);
        lock (_ringGate)
        {
            if (_ring != null && _ring.Generation == generation) _ring.Dispose();
            if (_segmentAbort is { } pending && pending.Generation == generation) pending.Cancel.Cancel();
        }
    }

    /// <summary>Abandons whatever segment is running (its coordinator is gone); the replica keeps every completed step.</summary>
    public void AbortRunning()
    {
        long? generation;
        lock (_ringGate) generation = _segmentAbort?.Generation;
        if (generation is long g) Abort(g);
    }

    /// <summary>Runs a segment on the training thread; results go to <paramref name="events"/>.</summary>
    public void StartSegment(SegmentPlan plan, IWorkerEngineEvents events)
    {
        if (_disposed) return;
        _work.Add(() => RunSegment(plan, events));
    }

    private void RunSegment(SegmentPlan plan, IWorkerEngineEvents events)
    {
        var trainer = _trainer;
        var run = _run;
        var faceSet = _faceSet;
        if (trainer == null || run == null || faceSet == null)
        {
            events.StepFailed(new StepFailed(WorkerId, plan.Generation, plan.FromStep, -1, "the worker has no replica yet", ""));
            return;
        }
        Busy = true;
        long step = plan.FromStep;
        bool sharded = false;
        // Cancelled by Abort: a resync or ring join waiting on a peer that is gone must not outlive the coordinator's grace.
        using var abort = new CancellationTokenSource();
        lock (_ringGate) _segmentAbort = (plan.Generation, abort);
        try
        {
            if (Interlocked.Read(ref _abortGeneration) == plan.Generation) throw new OperationCanceledException("aborted by the coordinator");
            if (plan.ResyncFromEndpoint.Length > 0)
                Resync(trainer, plan, abort.Token);
            if (trainer.Step != plan.FromStep)
            {
                events.StepFailed(new StepFailed(WorkerId, plan.Generation, plan.FromStep, trainer.Step,
                    $"the replica has applied {trainer.Step} updates but the plan starts at step {plan.FromStep}", ""));
                return;
            }

            var idsPerStep = PlanSteps(plan, faceSet, run.Seed, trainer.Model.BatchComposition);
            var ring = Endpoint.JoinRing(new RingSpec(plan.Generation, plan.RingEndpoints), plan.Rank, Options.EffectiveAllReduceTimeout, abort.Token);
            lock (_ringGate) _ring = ring;
            sharded = ring.Size > 1;
            // Each rank updates the share of the parameters in proportion to its local batch (its speed), inside the
            // all-reduce; the all-gather brings the new parameters (see ShardLayout, ReplicaTrainer.UpdateRange).
            // Bucket by bucket (the autoencoder: decoders, then encoder), each reduced while backward computes the next
            // unless --overlap off; every bucket is cut among the ranks in proportion to their batches.
            using var reducer = sharded
                ? new BucketedAllReduce(ring, trainer.Buckets, plan.LocalBatches.Select(b => (double)b).ToArray(), trainer.Gradients, trainer.UpdateRange, run.Wire, Options.Overlap)
                : null;
            using var batches = faceSet.CreateBatches(idsPerStep, unchecked(run.Seed ^ (ulong)plan.FromStep * 0x9E3779B97F4A7C15UL ^ (ulong)plan.Rank));
            double computeMs = 0, waitMs = 0, reduceMs = 0, updateMs = 0;
            long samples = 0;
            int stepsRun = 0;
            for (int k = 0; k < idsPerStep.Length; k++, step++)
            {
                if (Interlocked.Read(ref _abortGeneration) == plan.Generation) throw new OperationCanceledException("aborted by the coordinator");
                var watch = Stopwatch.StartNew();
                var batch = batches.Take(CancellationToken.None);
                double wait = watch.Elapsed.TotalMilliseconds;
                var updateBefore = trainer.UpdateTime;
                long current = step;
                reducer?.BeginStep();
                // Alone, a replica that updates on its device keeps the gradients there: nothing crosses the bus.
                var result = trainer.ComputeGradients(batch, plan.GlobalBatch, run.Accumulate, toHost: sharded || trainer.UpdateOn == UpdatePlacement.Host,
                    onBucketReady: reducer is null ? null : b => reducer.Ready(current, b));
                batches.Recycle(batch); // the step's tensors are gone: the arrays go back to the loader
                watch.Restart();
                if (reducer is not null)
                {
                    reducer.WaitStep(step);
                    trainer.CommitUpdate();
                }
                else
                {
                    trainer.ApplyUpdate();
                }
                double update = (trainer.UpdateTime - updateBefore).TotalMilliseconds;
                // What the step waited for after backward: with the overlap, the part of the all-reduce it could not hide.
                double exposed = watch.Elapsed.TotalMilliseconds;
                var (busy, hidden) = reducer?.StepTimes ?? default;
                // Serial: the update is compute and the rest of the wait is the reduce. Overlapped, the update runs inside the
                // buckets' reduces, partly beside backward: compute is backward and everything after it is the reduce.
                bool overlapped = reducer is { Overlapped: true };
                double reduce = overlapped ? exposed : Math.Max(0, exposed - update);
                double compute = result.ComputeTime.TotalMilliseconds + (overlapped ? 0 : update);
                computeMs += compute; waitMs += wait; reduceMs += reduce; updateMs += update; samples += batch.Count; stepsRun++;
                // The step's timeline, stage by stage as they run one after another: data wait, forward and backward,
                // the gradients' copy to host memory (GPU), then the all-reduce, with the owned range's update inside it.
                // With the overlap the buckets' all-reduces run beside backward: the line says how much of them it hid.
                if (_log.IsEnabled(LogLevel.Debug))
                    _log.LogDebug("Worker {Worker} step {Step} timeline: data wait {Wait:F1} ms | forward+backward {Backward:F1} ms | copy to host {Copy:F1} ms | all-reduce {Reduce:F1} ms ({Wire}, update of the owned range {Update:F1} ms inside) | buckets {Buckets}: {Busy:F1} ms reducing, {Hidden:F1} ms of it during backward, {Exposed:F1} ms waited after",
                        WorkerId, step, wait, (result.ComputeTime - result.CopyTime).TotalMilliseconds, result.CopyTime.TotalMilliseconds, reducer is null ? update : busy.TotalMilliseconds, run.Wire.Name(), update,
                        reducer is null ? "none (alone)" : string.Join(" then ", reducer.Buckets.Select(b => $"{b.Name} {b.Count:N0}")) + (reducer.Overlapped ? " (overlapped)" : " (serial)"),
                        busy.TotalMilliseconds, hidden.TotalMilliseconds, exposed);
                var completed = new StepCompleted(WorkerId, plan.Generation, plan.Cycle, step, plan.RingWorkerIds.Length,
                    result.SampleIds, result.Losses, compute, wait, reduce);
                Outbox.Add(completed);
                events.StepCompleted(completed);
                if (Interlocked.Read(ref _stopGeneration) == plan.Generation && step >= Interlocked.Read(ref _stopAt))
                {
                    step++;
                    break;
                }
            }
            if (sharded)
            {
                // Every rank kept the optimizer moments of its own range current: exchange them, so that every replica
                // holds the whole state again (for a checkpoint, a joining peer, or the next plan's other ranges).
                // Bucket by bucket, as the ranges were owned.
                trainer.ExchangeMoments(moments => reducer!.AllGather(moments, step));
            }
            // Also after a segment alone: the next one may be sharded (a worker joined) and must fall back to this point.
            trainer.SaveOptimizerBoundary();
            sharded = false;
            if (plan.ProbeIdentity && step == plan.ToStep && trainer.CanProbeIdentity)
                ProbeShard(plan, trainer, faceSet, events);
            double sps = computeMs > 0 ? samples / (computeMs / 1000.0) : 0;
            if (stepsRun > 0)
                _log.LogDebug("Worker {Worker}: cycle {Cycle}, {Steps} steps of batch {Batch}, per step: compute {Compute:F1} ms (update {Update:F1} ms), data wait {Wait:F1} ms, all-reduce {Reduce:F1} ms",
                    WorkerId, plan.Cycle, stepsRun, plan.LocalBatches[plan.Rank], computeMs / stepsRun, updateMs / stepsRun, waitMs / stepsRun, reduceMs / stepsRun);
            // A sharded update costs in proportion to the rank's batch (its share follows it): no batch-independent part.
            double fixedUpdateMs = stepsRun == 0 || plan.RingEndpoints.Length > 1 ? 0 : updateMs / stepsRun;
            _unexpectedInARow = 0;
            events.SegmentFinished(new SegmentFinished(WorkerId, plan.Generation, plan.Cycle, trainer.Step, trainer.ParameterChecksum(),
                sps, stepsRun == 0 ? 0 : computeMs / stepsRun, stepsRun == 0 ? 0 : waitMs / stepsRun, stepsRun == 0 ? 0 : reduceMs / stepsRun,
                fixedUpdateMs, (_telemetry ??= new DeviceTelemetryReader(Device)).Read()));
        }
        catch (Exception e)
        {
            // Every failure of a step, whatever threw: roll back, tell the coordinator (it replans), then act on the kind.
            trainer.AbandonStep();
            // The moments of other ranks' ranges are stale here and those of this rank's range ran ahead: every survivor
            // goes back to the moments of the last exchange, so that the replicas' optimizer states stay identical.
            if (sharded) trainer.RestoreOptimizerBoundary();
            var kind = StepFault.Classify(e);
            string reason = StepFault.Describe(e, kind);
            string suspect = e is AllReduceFailedException arf ? arf.PeerEndpoint : "";
            if (kind == StepFaultKind.Transient)
                _log.LogWarning("Worker {Worker}: step {Step} of generation {Generation} abandoned: {Reason}", WorkerId, step, plan.Generation, reason);
            else
                _log.LogError(e, "Worker {Worker}: step {Step} of generation {Generation} failed ({Kind}): {Reason}", WorkerId, step, plan.Generation, kind, reason);
            events.StepFailed(new StepFailed(WorkerId, plan.Generation, step, trainer.Step, reason, suspect));
            AfterFault(kind, reason, plan, trainer, events);
        }
        finally
        {
            lock (_ringGate)
            {
                _ring?.Dispose();
                _ring = null;
                _segmentAbort = null;
            }
            Busy = false;
        }
    }

    /// <summary>
    /// Out of memory: the largest batch becomes half the local batch that failed, and a new <see cref="WorkerReady"/>
    /// tells the coordinator before it replans. A device that cannot hold one sample, a sticky device error, or
    /// <see cref="StepFault.MaxUnexpectedInARow"/> unexpected failures in a row: the worker cannot go on.
    /// </summary>
    private void AfterFault(StepFaultKind kind, string reason, SegmentPlan plan, ReplicaTrainer trainer, IWorkerEngineEvents events)
    {
        switch (kind)
        {
            case StepFaultKind.OutOfMemory:
                var capacity = _capacity ?? new DeviceReport(Device.Kind, Device.Index, Device.Vendor, Device.Name, Device.MemoryBytes, 0, plan.LocalBatches[plan.Rank], Device.Note);
                int failedBatch = plan.LocalBatches[plan.Rank];
                if (failedBatch <= 1)
                {
                    events.CannotContinue($"out of memory at a local batch of one sample: {reason}");
                    return;
                }
                int lowered = Math.Min(capacity.MaxBatch, Math.Max(1, failedBatch / 2));
                _capacity = capacity with { MaxBatch = lowered };
                _log.LogWarning("Worker {Worker}: out of memory at a local batch of {Batch}; its largest batch is now {Lowered}", WorkerId, failedBatch, lowered);
                events.CapacityChanged(new WorkerReady(WorkerId, _capacity, trainer.Step, trainer.ParameterChecksum()));
                break;
            case StepFaultKind.Fatal:
                events.CannotContinue($"the device is unusable: {reason}");
                break;
            case StepFaultKind.Unexpected when ++_unexpectedInARow >= StepFault.MaxUnexpectedInARow:
                events.CannotContinue($"{_unexpectedInARow} steps in a row failed unexpectedly; the last: {reason}");
                break;
        }
    }

    /// <summary>Samples per probe batch, and at most per <see cref="IdentityProbed"/> message, which also stays under <see cref="ProbeMessageBytes"/> (12 bytes a sample and its latent: far under the frame limit).</summary>
    internal const int ProbeBatch = 64, ProbeMessageSamples = 4096, ProbeMessageBytes = 1 << 20;

    /// <summary>
    /// The identity probe of every sample of this rank's shard of the cycle (the shards of all ranks cover the active face
    /// set), on the images without augmentation, reported before the segment's end. A probe that fails is logged and
    /// skipped: it is a statistic for curation, never a reason to fail the step.
    /// </summary>
    private void ProbeShard(SegmentPlan plan, ReplicaTrainer trainer, IFaceSetView faceSet, IWorkerEngineEvents events)
    {
        var watch = Stopwatch.StartNew();
        var shard = ShardAssignment.Split(faceSet.TrainingIds, plan.Excluded, plan.ShardSeed, plan.Cycle, plan.LocalBatches)[plan.Rank];
        var distinct = shard.Distinct().Order().ToArray();
        if (distinct.Length == 0) return;
        var chunks = distinct.Chunk(ProbeBatch).ToArray();
        var ids = new List<int>(distinct.Length);
        var own = new List<float>(distinct.Length);
        var other = new List<float>(distinct.Length);
        var latents = new List<float>();
        int width = -1;
        try
        {
            using var batches = faceSet.CreateProbeBatches(chunks);
            var seen = new HashSet<int>();
            for (int k = 0; k < chunks.Length; k++)
            {
                var batch = batches.Take(CancellationToken.None);
                var result = trainer.ProbeIdentity(batch);
                for (int i = 0; i < batch.Count; i++)
                {
                    if (!seen.Add(batch.SampleIds[i])) continue; // a slot refilled with another sample of the batch
                    ids.Add(batch.SampleIds[i]); own.Add(result.Own[i]); other.Add(result.BestOther[i]);
                    if (width < 0) width = result.LatentWidth;
                    if (width > 0 && result.LatentWidth == width) latents.AddRange(result.Latents.AsSpan(i * width, width));
                    else width = 0; // a model without latents, or a batch that disagrees: no latents in this probe
                }
                batches.Recycle(batch);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or Common.Errors.FaceClusterException)
        {
            _log.LogWarning("Worker {Worker}: the identity probe of cycle {Cycle} stopped after {Done} of {Total} samples: {Reason}",
                WorkerId, plan.Cycle, ids.Count, distinct.Length, e.Message);
        }
        width = Math.Max(0, width);
        bool withLatents = width > 0 && latents.Count == ids.Count * width;
        int perMessage = withLatents ? Math.Clamp(ProbeMessageBytes / (12 + 4 * width), 1, ProbeMessageSamples) : ProbeMessageSamples;
        for (int start = 0; start < ids.Count; start += perMessage)
        {
            int n = Math.Min(perMessage, ids.Count - start);
            events.IdentityProbed(new IdentityProbed(WorkerId, plan.Generation, plan.Cycle, plan.ToStep,
                ids.GetRange(start, n).ToArray(), own.GetRange(start, n).ToArray(), other.GetRange(start, n).ToArray())
            {
                LatentWidth = withLatents ? width : 0,
                Latents = withLatents ? latents.GetRange(start * width, n * width).ToArray() : [],
            });
        }
        _log.LogDebug("Worker {Worker}: identity probe of {Samples} samples in {Ms:F0} ms", WorkerId, ids.Count, watch.Elapsed.TotalMilliseconds);
    }

    private void Resync(ReplicaTrainer trainer, SegmentPlan plan, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var snapshot = DataPlaneEndpoint.FetchState(plan.ResyncFromEndpoint, _secret, TimeSpan.FromSeconds(60), cancellationToken, _log);
        trainer.ImportState(snapshot.Payload.Span, $"the state of {plan.ResyncFromEndpoint}");
        _log.LogInformation("Worker {Worker}: adopted the state of {Peer} at step {Step} ({Bytes:N0} bytes in {Ms:F0} ms)",
            WorkerId, plan.ResyncFromEndpoint, trainer.Step, snapshot.Payload.Length, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// The ids of every step of the segment, from this rank's shard (deterministic on every worker), composed the way
    /// the model declares (<see cref="BatchComposition"/>: shuffled, or P identities × K images).
    /// </summary>
    internal static int[][] PlanSteps(SegmentPlan plan, IFaceSetView faceSet, ulong seed, BatchComposition? composition = null)
    {
        var shards = ShardAssignment.Split(faceSet.TrainingIds, plan.Excluded, plan.ShardSeed, plan.Cycle, plan.LocalBatches);
        var weights = new Dictionary<int, float>();
        for (int i = 0; i < plan.RefeedIds.Length; i++) weights[plan.RefeedIds[i]] = plan.RefeedWeights[i];
        var rng = DeterministicRng.Derive(seed, plan.Cycle, plan.FromStep, plan.Rank, plan.LocalBatches.Length);
        var sampler = composition is { GroupsByIdentity: true }
            ? new LocalBatchSampler(shards[plan.Rank], weights, rng, faceSet.LabelOf, composition.ImagesPerIdentity)
            : new LocalBatchSampler(shards[plan.Rank], weights, rng);
        int steps = (int)(plan.ToStep - plan.FromStep);
        var result = new int[steps][];
        for (int s = 0; s < steps; s++) result[s] = sampler.Next(plan.LocalBatches[plan.Rank]);
        return result;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Abort(Interlocked.Read(ref _abortGeneration));
        lock (_ringGate) _ring?.Dispose();
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(30));
        var model = _trainer?.Model;
        _trainer?.Dispose();
        model?.Dispose();
        Endpoint.SetStateProvider(null);
    }
}
