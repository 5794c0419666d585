using System.Diagnostics;
using System.Security.Cryptography;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Training;

/// <summary>
/// One replica of a model on one device, and its training step in two halves:
/// <list type="number">
/// <item><see cref="ComputeGradients"/>: forward, per-sample losses, and a backward pass of
///   sum(losses) / globalBatch, so that summing every worker's buffer gives the exact mean gradient over the
///   global batch, however the global batch was split.</item>
/// <item>The Adam update (<see cref="FlatAdam"/>) from the (possibly reduced) gradients, range by range:
///   <see cref="UpdateRange"/> writes the new parameters of a range into the gradient buffer, and
///   <see cref="CommitUpdate"/> adopts the whole buffer as the parameters. <see cref="ApplyUpdate"/> does both for
///   the whole vector; a worker in a ring updates only the range it owns after the reduce-scatter and the
///   all-gather brings it every other range (a sharded update, see <see cref="FaceCluster.Common.DataPlane.ShardLayout"/>).</item>
/// </list>
/// The gradients live in ONE contiguous float32 buffer, <see cref="Gradients"/>: every parameter's .grad is a
/// view into it (like DDP's gradient_as_bucket_view), so backward writes straight into the buffer the data plane
/// sends, with no per-element copies. The parameters are views of one flat vector too (host memory on a CPU), so
/// committing an update is one copy. On a GPU each flat vector is mirrored by one device tensor and one copy each way,
/// through page-locked host memory (<see cref="PinnedHostBuffer"/>).
/// <para>
/// Where the update runs is <see cref="TrainerOptions.UpdateOn"/>: on the host over the rank's range (as ZeRO-Offload's
/// CPU Adam, <see cref="FlatAdam"/>, on <see cref="TrainerOptions.UpdateThreads"/> threads), which wins on a CPU worker;
/// or on the device (<see cref="DeviceAdam"/>), the moments kept in device memory, which a GPU worker picks: the reduced
/// gradients of its range go to the device, the new parameters of that range come back for the all-gather, and alone
/// (no ring) nothing crosses the bus at all. Both keep the same moments; the parameters may differ in the last place
/// (<see cref="DeviceAdam"/>), and a ring mixes them all the same, since one rank updates each range and all adopt it. On a CPU the device
/// placement keeps separate "device" vectors and makes every copy a GPU would: the path runs, and is tested, without one.
/// </para>
/// </summary>
public sealed class ReplicaTrainer : IDisposable
{
    private readonly IFaceModel _model;
    private readonly Parameter[] _parameters;
    private readonly PinnedHostBuffer _flatHost;
    private readonly float[] _flat;
    private readonly Tensor _flatCpu;
    private readonly Tensor _flatDevice;
    private readonly PinnedHostBuffer _paramsHost;
    private readonly float[] _params;
    private readonly Tensor _paramsCpu;
    private readonly Tensor _paramsDevice;
    private readonly bool _onCpu;
    private readonly bool _mirrored;
    private readonly bool _async;
    private readonly FlatAdam _optimizer;
    private readonly DeviceAdam? _deviceAdam;
    private bool _gradientsOnHost = true;
    private readonly GradientBucket[] _buckets;
    private readonly ITwoStageModel? _stages;
    private bool _disposed;

    public ReplicaTrainer(IFaceModel model, Device device, TrainerOptions options)
    {
        TorchRuntime.EnsureLoaded();
        options.Validate();
        _model = model;
        Device = device;
        Options = options;
        _onCpu = device.type == DeviceType.CPU;
        // Separate device vectors, and copies between them and the host's: a GPU, or the device update exercised on a CPU.
        _mirrored = !_onCpu || options.UpdateOn == UpdatePlacement.Device;
        _model.Root.to(device);
        _parameters = _model.Root.parameters().ToArray();
        long total = _parameters.Sum(p => p.numel());
        if (total > int.MaxValue) throw new FaceClusterException($"the model has {total} parameters; one flat buffer holds at most {int.MaxValue}");
        _flatHost = new PinnedHostBuffer(total, device);
        _flat = _flatHost.Array;
        _flatCpu = _flatHost.Tensor;
        _flatDevice = _mirrored ? torch.zeros(total, ScalarType.Float32, device) : _flatCpu;
        _paramsHost = new PinnedHostBuffer(total, device);
        _params = _paramsHost.Array;
        _paramsCpu = _paramsHost.Tensor;
        _paramsDevice = _mirrored ? torch.zeros(total, ScalarType.Float32, device) : _paramsCpu;
        _async = _flatHost.IsPageLocked && _paramsHost.IsPageLocked;
        long offset = 0;
        using (torch.no_grad())
        {
            foreach (var p in _parameters)
            {
                long n = p.numel();
                using var view = _flatDevice.narrow(0, offset, n).view(p.shape);
                p.grad = view;
                // The parameter keeps its identity (the modules hold it) but its storage becomes a slice of the flat vector.
                using var weights = _paramsDevice.narrow(0, offset, n).view(p.shape);
                weights.copy_(p);
                p.set_(weights);
                offset += n;
            }
        }
        if (_mirrored) _paramsCpu.copy_(_paramsDevice);
        (_buckets, _stages) = CutBuckets(_model, (int)total);
        _optimizer = new FlatAdam((int)total, options);
        _optimizer.SaveBoundary();
        if (options.UpdateOn == UpdatePlacement.Device) _deviceAdam = new DeviceAdam(total, options, device);
    }

    public IFaceModel Model => _model;
    public Device Device { get; }
    public TrainerOptions Options { get; }

    /// <summary>Updates applied so far.</summary>
    public long Step { get; private set; }

    /// <summary>The flat gradient buffer (host memory). Valid between ComputeGradients and ApplyUpdate.</summary>
    public float[] Gradients => _flat;

    public int ParameterCount => _flat.Length;

    /// <summary>
    /// The gradient buckets in the order backward completes them, covering the flat buffer: for a two-stage model
    /// (<see cref="ITwoStageModel"/>, the autoencoder) the second stage's parameters, then the first's; else one bucket.
    /// </summary>
    public IReadOnlyList<GradientBucket> Buckets => _buckets;

    /// <summary>Where the first stage's parameters lie in the flat vector: the buckets are the rest, then they.</summary>
    private static (GradientBucket[] Buckets, ITwoStageModel? Stages) CutBuckets(IFaceModel model, int total)
    {
        var whole = new[] { new GradientBucket("all", 0, total) };
        if (model is not ITwoStageModel staged) return (whole, null);
        long lo = long.MaxValue, hi = 0, count = 0;
        foreach (var p in staged.FirstStage.parameters())
        {
            long at = p.storage_offset(), n = p.numel(); // a view of the flat parameter vector since the constructor
            lo = Math.Min(lo, at);
            hi = Math.Max(hi, at + n);
            count += n;
        }
        if (count == 0 || count == total) return (whole, null);
        if (hi - lo != count || (lo != 0 && hi != total))
            throw new InvalidOperationException($"the {model.Kind} model's first stage is not one run at an end of its parameters ([{lo}, {hi}) for {count} values of {total})");
        string first = staged.FirstStageName, second = staged.SecondStageName;
        var firstBucket = new GradientBucket(first, (int)lo, (int)count);
        var secondBucket = lo == 0 ? new GradientBucket(second, (int)hi, total - (int)hi) : new GradientBucket(second, 0, (int)lo);
        return ([secondBucket, firstBucket], staged);
    }

    /// <summary>Where this replica runs its update.</summary>
    public UpdatePlacement UpdateOn => _deviceAdam is null ? UpdatePlacement.Host : UpdatePlacement.Device;

    /// <summary>How the host buffers are held (page-locked on a CUDA device, else pageable, and why): for the worker's log.</summary>
    public string HostBuffers => _flatHost.Detail;

    /// <summary>
    /// First half: gradients of sum(per-sample loss) / <paramref name="globalBatch"/> into <see cref="Gradients"/>.
    /// With <paramref name="microBatches"/> &gt; 1 the batch goes through forward and backward in that many parts (a
    /// device that cannot hold it whole), their gradients accumulated: the same sum, in another order of addition.
    /// <paramref name="toHost"/> false leaves the gradients on the device, for an <see cref="ApplyUpdate"/> on the
    /// device with no ring (the update on the host, or a CPU, reads them from host memory all the same).
    /// <para>
    /// As each of <see cref="Buckets"/> is complete (and in host memory), <paramref name="onBucketReady"/>(its index) is
    /// called on this thread: the ring may reduce it while backward computes the next. A two-stage model's backward runs
    /// in its two stages whether or not anyone listens, so a step that overlaps the reduce computes the same bits as one
    /// that does not. No later write touches a bucket once it has been reported.
    /// </para>
    /// </summary>
    public StepResult ComputeGradients(TrainBatch batch, int globalBatch, int microBatches = 1, bool toHost = true, Action<int>? onBucketReady = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        batch.Validate();
        if (globalBatch < batch.Count) throw new ArgumentOutOfRangeException(nameof(globalBatch), $"the global batch ({globalBatch}) is smaller than the local batch ({batch.Count})");
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatches, 1);
        var watch = Stopwatch.StartNew();
        _model.Root.train();
        _flatDevice.zero_();
        int parts = Math.Min(microBatches, batch.Count);
        var perSample = new float[batch.Count];
        int nonFinite = 0;
        _gradientsOnHost = toHost || _deviceAdam is null || !_mirrored;
        int reported = 0;
        var copyTime = TimeSpan.Zero;
        // Bucket b is complete: to host memory (a GPU), then whoever listens may reduce it.
        void Ready(int b)
        {
            var started = watch.Elapsed;
            if (_mirrored && _gradientsOnHost)
            {
                using var scope = torch.NewDisposeScope();
                var bucket = _buckets[b];
                _flatCpu.narrow(0, bucket.Offset, bucket.Count).copy_(_flatDevice.narrow(0, bucket.Offset, bucket.Count));
            }
            copyTime += watch.Elapsed - started;
            reported = b + 1;
            onBucketReady?.Invoke(b);
        }
        for (int p = 0; p < parts; p++)
        {
            int from = batch.Count * p / parts, to = batch.Count * (p + 1) / parts;
            var part = parts == 1 ? batch : Slice(batch, from, to);
            var (losses, bad) = Backward(part, globalBatch, p == parts - 1 ? Ready : null);
            losses.CopyTo(perSample, from);
            nonFinite += bad;
        }
        while (reported < _buckets.Length) Ready(reported); // a last part with no finite loss had no backward
        return new StepResult(batch.SampleIds, perSample, watch.Elapsed, nonFinite, copyTime);
    }

    private static TrainBatch Slice(TrainBatch batch, int from, int to)
    {
        int f = batch.FloatsPerImage;
        return new TrainBatch(to - from, batch.ImageSize, batch.SampleIds[from..to], batch.Labels[from..to], batch.Inputs[(from * f)..(to * f)],
            batch.Targets?[(from * f)..(to * f)]);
    }

    /// <summary>
    /// Forward and backward of one (micro-)batch, gradients added into the flat buffer; its per-sample losses. A
    /// two-stage model's graph is cut at the first stage's output (a leaf that collects the second stage's gradient):
    /// backward runs through the second stage, <paramref name="ready"/>(0) may send its bucket, then the first stage's
    /// backward continues from the collected gradient and <paramref name="ready"/>(1) follows.
    /// </summary>
    private (float[] Losses, int NonFinite) Backward(TrainBatch batch, int globalBatch, Action<int>? ready)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = [batch.Count, 3, batch.ImageSize, batch.ImageSize];
        var inputs = ToDevice(batch.Inputs, batch.Count * batch.FloatsPerImage, shape);
        var targets = batch.Targets is null ? null : ToDevice(batch.Targets, batch.Count * batch.FloatsPerImage, shape);
        Tensor? boundary = null, leaf = null;
        try
        {
            var losses = _stages is null
                ? _model.PerSampleLoss(inputs, targets, batch.Labels)
                : _stages.PerSampleLoss(inputs, targets, batch.Labels, code =>
                {
                    // Both must outlive the model's own (nested) dispose scopes: they leave every scope, and the finally disposes them.
                    boundary = code.DetachFromDisposeScope();
                    leaf = code.detach().requires_grad_(true).DetachFromDisposeScope();
                    return leaf;
                });
            var finite = torch.isfinite(losses);
            int nonFinite = batch.Count - (int)finite.sum().item<long>();
            var safe = nonFinite == 0 ? losses : torch.where(finite, losses, torch.zeros_like(losses));
            if (nonFinite < batch.Count)
            {
                (safe.sum() / globalBatch).backward();
                if (boundary is not null && leaf?.grad is { } upstream)
                {
                    ready?.Invoke(0);
                    torch.autograd.backward(boundary, upstream);
                    ready?.Invoke(1);
                }
                else
                {
                    ready?.Invoke(0);
                }
            }
            return (losses.detach().cpu().data<float>().ToArray(), nonFinite);
        }
        finally
        {
            boundary?.Dispose();
            leaf?.Dispose();
        }
    }

    /// <summary>True when the model can probe faces for how much they look like their identity (<see cref="IIdentityProbe"/>).</summary>
    public bool CanProbeIdentity => _model is IIdentityProbe;

    /// <summary>
    /// The identity probe of a batch of images as they are (the model in eval mode, no gradients; the replica's weights
    /// and optimizer are untouched).
    /// </summary>
    public IdentityProbeLosses ProbeIdentity(TrainBatch batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var probe = _model as IIdentityProbe ?? throw new NotSupportedException($"the {_model.Kind} model has no identity probe");
        batch.Validate();
        using var scope = torch.NewDisposeScope();
        _model.Root.eval();
        try
        {
            var inputs = ToDevice(batch.Inputs, batch.Count * batch.FloatsPerImage, [batch.Count, 3, batch.ImageSize, batch.ImageSize]);
            return probe.ProbeIdentity(inputs, batch.Labels);
        }
        finally
        {
            _model.Root.train();
        }
    }

    /// <summary>
    /// Second half: applies <see cref="Gradients"/> (as they are now, e.g. summed across workers) to every parameter.
    /// With the update on the device and the gradients left there (<c>toHost: false</c>), all of it runs on the device.
    /// </summary>
    public void ApplyUpdate()
    {
        if (_deviceAdam is not null && !_gradientsOnHost)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var watch = Stopwatch.StartNew();
            using (torch.NewDisposeScope())
            {
                _deviceAdam.UpdateRange(_paramsDevice, _flatDevice, 0, _flat.Length, Step + 1);
                _paramsDevice.copy_(_flatDevice);
            }
            _gradientsOnHost = true; // the device buffer holds the new weights now, not gradients; the next step starts over
            Step++;
            UpdateTime += watch.Elapsed;
            return;
        }
        UpdateRange(0, _flat.Length);
        CommitUpdate();
    }

    /// <summary>
    /// The Adam update of parameters [<paramref name="offset"/>, +<paramref name="length"/>) from the gradients there:
    /// the new parameters replace those gradients in <see cref="Gradients"/>, and the moments of the range advance.
    /// The replica's weights change only at <see cref="CommitUpdate"/>, once the buffer holds every range's new parameters.
    /// </summary>
    public void UpdateRange(int offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var watch = Stopwatch.StartNew();
        long t = Step + 1;
        if (_deviceAdam is not null)
        {
            // The reduced gradients of the range to the device, Adam there, the new parameters back for the all-gather.
            using var scope = torch.NewDisposeScope();
            var device = _flatDevice.narrow(0, offset, length);
            var host = _flatCpu.narrow(0, offset, length);
            device.copy_(host, _async);
            _deviceAdam.UpdateRange(_paramsDevice, _flatDevice, offset, length, t);
            host.copy_(device);
            UpdateTime += watch.Elapsed;
            return;
        }
        int threads = Math.Max(1, Options.UpdateThreads);
        const int Block = 1 << 18;
        if (threads == 1 || length < 2 * Block)
            _optimizer.UpdateRange(_params, _flat, offset, length, t);
        else
            Parallel.For(0, (length + Block - 1) / Block, new ParallelOptions { MaxDegreeOfParallelism = threads },
                b => _optimizer.UpdateRange(_params, _flat, offset + b * Block, Math.Min(Block, length - b * Block), t));
        UpdateTime += watch.Elapsed;
    }

    /// <summary>
    /// Adopts the buffer as the replica's weights: one update applied. Call it once the buffer holds every range's new
    /// parameters (after <see cref="UpdateRange"/> of the whole vector, or after the all-gather of a sharded update).
    /// </summary>
    public void CommitUpdate()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var watch = Stopwatch.StartNew();
        if (_deviceAdam is not null)
        {
            // The host's parameter vector is the host update's input only: the device update reads the device's.
            using var scope = torch.NewDisposeScope();
            _paramsDevice.copy_(_flatCpu, _async);
        }
        else
        {
            _flat.AsSpan().CopyTo(_params);
            if (_mirrored)
            {
                using var scope = torch.NewDisposeScope();
                _paramsDevice.copy_(_paramsCpu);
            }
        }
        Step++;
        UpdateTime += watch.Elapsed;
    }

    /// <summary>Time spent in <see cref="UpdateRange"/> and <see cref="CommitUpdate"/> since the replica was built (for the step-cost model).</summary>
    public TimeSpan UpdateTime { get; private set; }

    /// <summary>
    /// The optimizer's moments as the host holds them (read-only use: with the update on the device they are copied
    /// from it first). A ring exchanges them with <see cref="ExchangeMoments"/>.
    /// </summary>
    public FlatAdam Optimizer
    {
        get
        {
            PullMoments();
            return _optimizer;
        }
    }

    /// <summary>
    /// Every rank kept the moments of its own range current: <paramref name="allGather"/> (the ring's all-gather of one
    /// vector) brings the others' ranges into the first, then the second moments, and the device takes them back.
    /// </summary>
    public void ExchangeMoments(Action<float[]> allGather)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        PullMoments();
        allGather(_optimizer.FirstMoments);
        allGather(_optimizer.SecondMoments);
        PushMoments();
    }

    /// <summary>Keeps the moments as they are now (every range current): what an abandoned segment falls back to.</summary>
    public void SaveOptimizerBoundary()
    {
        PullMoments();
        _optimizer.SaveBoundary();
    }

    /// <summary>Returns the moments to the last <see cref="SaveOptimizerBoundary"/>, on the device too.</summary>
    public bool RestoreOptimizerBoundary()
    {
        if (!_optimizer.RestoreBoundary()) return false;
        PushMoments();
        return true;
    }

    private void PullMoments() => _deviceAdam?.CopyTo(_optimizer.FirstMoments, _optimizer.SecondMoments);

    private void PushMoments() => _deviceAdam?.CopyFrom(_optimizer.FirstMoments, _optimizer.SecondMoments);

    /// <summary>Drops the gradients of a step that will not be applied (e.g. its all-reduce failed).</summary>
    public void AbandonStep()
    {
        using var scope = torch.NewDisposeScope();
        _flatDevice.zero_();
    }

    /// <summary>SHA-256 over every parameter's bytes, in order: replicas that agree bit for bit have equal checksums.</summary>
    public string ParameterChecksum()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = torch.NewDisposeScope();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in _parameters)
        {
            var host = (_onCpu ? p.detach() : p.detach().cpu()).contiguous();
            hash.AppendData(host.bytes);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>
    /// Every component's weights, the optimizer state and the step counter as a <see cref="ModelBundle"/>:
    /// what a peer adopts to resync or join mid-run, and what a checkpoint folder holds.
    /// </summary>
    public ModelBundle ExportBundle()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var scope = torch.NewDisposeScope();
        foreach (var component in _model.Components)
            files[CheckpointStore.ComponentFile(component.Name)] = Write(w => component.Module.save(w));
        files[CheckpointStore.OptimizerFile] = Optimizer.Save();
        return new ModelBundle(_model.Kind.ToString(), _model.Preset.Name, _model.Labels.ToArray(), Step, files);

        static byte[] Write(Action<BinaryWriter> save)
        {
            using var stream = new MemoryStream();
            using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) save(w);
            return stream.ToArray();
        }
    }

    /// <summary>Adopts a bundle exported by a replica of the same model (same family, preset and labels).</summary>
    public void ImportBundle(ModelBundle bundle, string source = "replica state")
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (bundle.ModelKind != _model.Kind.ToString())
            throw new FaceClusterException($"{source} holds a {bundle.ModelKind} model; this replica is a {_model.Kind} model");
        if (bundle.Preset != _model.Preset.Name)
            throw new FaceClusterException($"{source} was saved with preset '{bundle.Preset}'; this replica uses '{_model.Preset.Name}' ({_model.Preset.ImageSize}px)");
        if (!bundle.Labels.SequenceEqual(_model.Labels))
            throw new FaceClusterException($"{source} was trained on identities [{string.Join(", ", bundle.Labels)}]; this replica has [{string.Join(", ", _model.Labels)}] (the labels differ)");
        using var scope = torch.NewDisposeScope();
        foreach (var component in _model.Components)
        {
            string file = CheckpointStore.ComponentFile(component.Name);
            if (!bundle.Files.TryGetValue(file, out var bytes)) throw new FaceClusterException($"{source} has no {file}");
            try
            {
                using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
                component.Module.load(reader, strict: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or KeyNotFoundException or InvalidOperationException)
            {
                throw new FaceClusterException($"{source}: {file} does not fit this model's {component.Name} (another preset or shape?): {e.Message}", ExitCodes.UserError, e);
            }
        }
        if (_mirrored) _paramsCpu.copy_(_paramsDevice); // the modules loaded into the device vector
        if (bundle.Files.TryGetValue(CheckpointStore.OptimizerFile, out var optimizer))
            _optimizer.Load(optimizer, $"{source}: {CheckpointStore.OptimizerFile}");
        else if (bundle.Files.TryGetValue(CheckpointStore.LegacyOptimizerFile, out var legacy))
            LoadLegacyOptimizer(legacy, $"{source}: {CheckpointStore.LegacyOptimizerFile}");
        else
            throw new FaceClusterException($"{source} has no {CheckpointStore.OptimizerFile}");
        PushMoments();
        Step = bundle.Step;
    }

    /// <summary>Moments from a TorchSharp Adam state dictionary (checkpoints written before the flat optimizer).</summary>
    private void LoadLegacyOptimizer(byte[] bytes, string source)
    {
        using var scope = torch.NewDisposeScope();
        using var adam = optim.Adam(_parameters, Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            adam.load_state_dict(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or InvalidOperationException)
        {
            throw new FaceClusterException($"{source} is not an optimizer state of this model: {e.Message}", ExitCodes.UserError, e);
        }
        var states = adam.state_dict().State;
        if (states.Count != _parameters.Length) throw new FaceClusterException($"{source} holds {states.Count} parameter states; this model has {_parameters.Length}");
        _optimizer.Reset();
        int offset = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            int n = (int)_parameters[i].numel();
            if (states[i] is Adam.State { exp_avg: { } m, exp_avg_sq: { } v } && m.numel() == n && v.numel() == n)
                _optimizer.LoadMoments(m.cpu().contiguous().data<float>().ToArray(), v.cpu().contiguous().data<float>().ToArray(), offset);
            offset += n;
        }
        _optimizer.SaveBoundary();
    }

    /// <summary>The bundle as bytes, for the data plane.</summary>
    public byte[] ExportState() => ExportBundle().Serialize();

    /// <summary>Adopts bytes produced by <see cref="ExportState"/>.</summary>
    public void ImportState(ReadOnlySpan<byte> state, string source = "replica state") => ImportBundle(ModelBundle.Deserialize(state), source);

    /// <summary>Sets the step counter (used when resuming from a checkpoint whose state was loaded piecewise).</summary>
    public void SetStep(long step) => Step = step >= 0 ? step : throw new ArgumentOutOfRangeException(nameof(step));

    private Tensor ToDevice(float[] data, int count, long[] shape)
    {
        var host = torch.frombuffer(data, ScalarType.Float32, count).view(shape);
        return _onCpu ? host : host.to(Device, non_blocking: false);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _parameters) if (!p.IsInvalid) p.grad = null;
        if (_mirrored) { _flatDevice.Dispose(); _paramsDevice.Dispose(); }
        _deviceAdam?.Dispose();
        _flatHost.Dispose();
        _paramsHost.Dispose();
    }
}
