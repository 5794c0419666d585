using System.Diagnostics;
using System.Security.Cryptography;
using FaceCluster.Common.Errors;
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
/// <item><see cref="ApplyUpdate"/>: the optimizer step from the (possibly all-reduced) gradients.</item>
/// </list>
/// The gradients live in ONE contiguous float32 buffer, <see cref="Gradients"/>: every parameter's .grad is a
/// view into it (like DDP's gradient_as_bucket_view), so backward writes straight into the buffer the data plane
/// sends, with no per-element copies. On a GPU the buffer is mirrored by one device tensor and one copy each way.
/// </summary>
public sealed class ReplicaTrainer : IDisposable
{
    private const int StateFormatVersion = 1;
    private readonly IFaceModel _model;
    private readonly Parameter[] _parameters;
    private readonly float[] _flat;
    private readonly Tensor _flatCpu;
    private readonly Tensor _flatDevice;
    private readonly bool _onCpu;
    private readonly Adam _optimizer;
    private bool _disposed;

    public ReplicaTrainer(IFaceModel model, Device device, TrainerOptions options)
    {
        TorchRuntime.EnsureLoaded();
        options.Validate();
        _model = model;
        Device = device;
        Options = options;
        _onCpu = device.type == DeviceType.CPU;
        _model.Root.to(device);
        _parameters = _model.Root.parameters().ToArray();
        long total = _parameters.Sum(p => p.numel());
        if (total > int.MaxValue) throw new FaceClusterException($"the model has {total} parameters; one flat buffer holds at most {int.MaxValue}");
        _flat = new float[total];
        _flatCpu = torch.frombuffer(_flat, ScalarType.Float32);
        _flatDevice = _onCpu ? _flatCpu : torch.zeros(total, ScalarType.Float32, device);
        long offset = 0;
        foreach (var p in _parameters)
        {
            long n = p.numel();
            using var view = _flatDevice.narrow(0, offset, n).view(p.shape);
            p.grad = view;
            offset += n;
        }
        _optimizer = optim.Adam(_parameters, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon);
    }

    public IFaceModel Model => _model;
    public Device Device { get; }
    public TrainerOptions Options { get; }

    /// <summary>Updates applied so far.</summary>
    public long Step { get; private set; }

    /// <summary>The flat gradient buffer (host memory). Valid between ComputeGradients and ApplyUpdate.</summary>
    public float[] Gradients => _flat;

    public int ParameterCount => _flat.Length;

    /// <summary>First half: gradients of sum(per-sample loss) / <paramref name="globalBatch"/> into <see cref="Gradients"/>.</summary>
    public StepResult ComputeGradients(TrainBatch batch, int globalBatch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        batch.Validate();
        if (globalBatch < batch.Count) throw new ArgumentOutOfRangeException(nameof(globalBatch), $"the global batch ({globalBatch}) is smaller than the local batch ({batch.Count})");
        var watch = Stopwatch.StartNew();
        using var scope = torch.NewDisposeScope();
        _model.Root.train();
        _flatDevice.zero_();
        long[] shape = [batch.Count, 3, batch.ImageSize, batch.ImageSize];
        var inputs = ToDevice(batch.Inputs, batch.Count * batch.FloatsPerImage, shape);
        var targets = batch.Targets is null ? null : ToDevice(batch.Targets, batch.Count * batch.FloatsPerImage, shape);
        var losses = _model.PerSampleLoss(inputs, targets, batch.Labels);
        var finite = torch.isfinite(losses);
        int nonFinite = batch.Count - (int)finite.sum().item<long>();
        var safe = nonFinite == 0 ? losses : torch.where(finite, losses, torch.zeros_like(losses));
        if (nonFinite < batch.Count)
            (safe.sum() / globalBatch).backward();
        float[] perSample = losses.detach().cpu().data<float>().ToArray();
        if (!_onCpu) _flatCpu.copy_(_flatDevice);
        return new StepResult(batch.SampleIds, perSample, watch.Elapsed, nonFinite);
    }

    /// <summary>Second half: applies <see cref="Gradients"/> (as they are now, e.g. summed across workers).</summary>
    public void ApplyUpdate()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = torch.NewDisposeScope();
        if (!_onCpu) _flatDevice.copy_(_flatCpu);
        _optimizer.step();
        Step++;
    }

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

    /// <summary>Parameters, optimizer state and the step counter, for a peer to adopt (resync or a worker joining mid-run).</summary>
    public byte[] ExportState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("FCSTATE");
            writer.Write(StateFormatVersion);
            writer.Write(_model.Kind.ToString());
            writer.Write(_model.Preset.Name);
            writer.Write(string.Join('\n', _model.Labels));
            writer.Write(Step);
            _model.Root.save(writer);
            _optimizer.save_state_dict(writer);
        }
        return stream.ToArray();
    }

    /// <summary>Adopts a state exported by <see cref="ExportState"/> on a replica of the same model.</summary>
    public void ImportState(ReadOnlySpan<byte> state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var stream = new MemoryStream(state.ToArray(), writable: false);
        using var reader = new BinaryReader(stream);
        if (reader.ReadString() != "FCSTATE") throw new InvalidDataException("not a FaceCluster replica state");
        int version = reader.ReadInt32();
        if (version != StateFormatVersion) throw new InvalidDataException($"replica state format {version}, expected {StateFormatVersion}");
        string kind = reader.ReadString(), preset = reader.ReadString(), labels = reader.ReadString();
        if (kind != _model.Kind.ToString() || preset != _model.Preset.Name || labels != string.Join('\n', _model.Labels))
            throw new FaceClusterException($"replica state is for a {kind} model, preset {preset}; this replica is a {_model.Kind} model, preset {_model.Preset.Name} (or the labels differ)");
        long step = reader.ReadInt64();
        using (var scope = torch.NewDisposeScope())
        {
            _model.Root.load(reader, strict: true);
            _optimizer.load_state_dict(reader);
        }
        Step = step;
    }

    /// <summary>Sets the step counter (used when resuming from a checkpoint whose state was loaded piecewise).</summary>
    public void SetStep(long step) => Step = step >= 0 ? step : throw new ArgumentOutOfRangeException(nameof(step));

    internal Adam Optimizer => _optimizer;

    private Tensor ToDevice(float[] data, int count, long[] shape)
    {
        var host = torch.frombuffer(data, ScalarType.Float32, count).view(shape);
        return _onCpu ? host : host.to(Device, non_blocking: false);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _parameters) p.grad = null;
        _optimizer.Dispose();
        if (!_onCpu) _flatDevice.Dispose();
        _flatCpu.Dispose();
    }
}
