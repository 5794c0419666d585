using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Models.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Autoencoder;

/// <summary>
/// The faceswap-style autoencoder: one shared encoder and one decoder per identity, any number of identities.
/// A swap is a face encoded by the shared encoder and decoded by another identity's decoder.
/// </summary>
public sealed class FaceSwapAutoencoder : nn.Module<Tensor, Tensor>, IFaceModel, IIdentityProbe, ITwoStageModel
{
    private readonly FaceEncoder _encoder;
    private readonly ModuleList<FaceDecoder> _decoders = new();
    private readonly PerSampleLoss _loss;
    private readonly string[] _identities;

    public FaceSwapAutoencoder(ModelPreset preset, IReadOnlyList<string> identities, double ssimWeight = 0.0) : base("autoencoder")
    {
        if (identities.Count == 0) throw new FaceClusterException("the autoencoder needs at least one identity");
        if (identities.Distinct(StringComparer.Ordinal).Count() != identities.Count)
            throw new FaceClusterException("identity names must be unique");
        Preset = preset;
        _identities = identities.ToArray();
        _encoder = new FaceEncoder(preset);
        foreach (var identity in _identities)
            _decoders.Add(new FaceDecoder(DecoderName(identity), preset));
        _loss = new PerSampleLoss(ssimWeight);
        RegisterComponents();
        Components = [new ModelComponent("encoder", _encoder), .. _identities.Select((id, i) => new ModelComponent(DecoderName(id), _decoders[i]))];
    }

    public static string DecoderName(string identity) => "decoder-" + identity;

    public ModelKind Kind => ModelKind.Autoencoder;
    public ModelPreset Preset { get; }
    public IReadOnlyList<string> Labels => _identities;
    public nn.Module Root => this;
    public IReadOnlyList<ModelComponent> Components { get; }
    public BatchKind BatchKind => BatchKind.Reconstruction;
    public BatchComposition BatchComposition => BatchComposition.Shuffled;
    public FaceEncoder Encoder => _encoder;
    public FaceDecoder Decoder(int identity) => _decoders[identity];

    /// <summary>Reconstructs every input through its own identity's decoder.</summary>
    public Tensor Reconstruct(Tensor inputs, long[] identities)
    {
        using var scope = NewDisposeScope();
        var code = _encoder.call(inputs);
        var output = torch.empty_like(inputs);
        foreach (var (identity, rows) in GroupRows(identities))
        {
            using var index = torch.tensor(rows, device: inputs.device);
            var decoded = _decoders[(int)identity].call(code.index_select(0, index));
            output = output.index_copy(0, index, decoded);
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Encodes with the shared encoder and decodes with the given identity's decoder: a face swap.</summary>
    public Tensor Swap(Tensor inputs, int toIdentity)
    {
        using var scope = NewDisposeScope();
        return _decoders[toIdentity].call(_encoder.call(inputs)).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor inputs) =>
        throw new NotSupportedException("the autoencoder needs each sample's identity: call Reconstruct(inputs, identities)");

    public Tensor PerSampleLoss(Tensor inputs, Tensor? targets, long[] labels) => PerSampleLoss(inputs, targets, labels, code => code);

    /// <summary>
    /// The encoder is the first stage, the decoders the second (<see cref="ITwoStageModel"/>). Cutting inside the encoder
    /// instead (its convolutions alone in the first stage) was measured on 2 one-thread CPU workers: the larger second
    /// bucket then outlasted the convolutions' backward, and nothing more was hidden.
    /// </summary>
    public nn.Module FirstStage => _encoder;

    public string FirstStageName => "encoder";

    public string SecondStageName => "decoders";

    public Tensor PerSampleLoss(Tensor inputs, Tensor? targets, long[] labels, Func<Tensor, Tensor> cut)
    {
        if (targets is null) throw new ArgumentNullException(nameof(targets), "the autoencoder trains on (warped input, target) pairs");
        using var scope = NewDisposeScope();
        var code = cut(_encoder.call(inputs));
        var losses = torch.zeros(inputs.shape[0], device: inputs.device, dtype: inputs.dtype);
        foreach (var (identity, rows) in GroupRows(labels))
        {
            if (identity < 0 || identity >= _identities.Length)
                throw new ArgumentOutOfRangeException(nameof(labels), $"identity index {identity} is outside 0..{_identities.Length - 1}");
            using var index = torch.tensor(rows, device: inputs.device);
            var decoded = _decoders[(int)identity].call(code.index_select(0, index));
            var l = _loss.Compute(decoded, targets.index_select(0, index));
            losses = losses.index_copy(0, index, l);
        }
        return losses.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Encodes once and decodes every input with every identity's decoder (the images themselves are the targets).
    /// Costs one encoder and one decoder pass per identity for each sample, so the coordinator probes every few cycles.
    /// The latents are the encoder's bottleneck vectors, where the shared encoder places each face (the ledger's latent
    /// outliers: a face far from its identity's faces there).
    /// </summary>
    public IdentityProbeLosses ProbeIdentity(Tensor inputs, long[] labels)
    {
        int n = (int)inputs.shape[0];
        if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for {n} inputs", nameof(labels));
        foreach (long l in labels)
            if (l < 0 || l >= _identities.Length)
                throw new ArgumentOutOfRangeException(nameof(labels), $"identity index {l} is outside 0..{_identities.Length - 1}");
        var own = new float[n];
        var other = new float[n];
        Array.Fill(other, float.PositiveInfinity);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (code, latent) = _encoder.Encode(inputs);
        for (int d = 0; d < _identities.Length; d++)
        {
            var losses = _loss.Compute(_decoders[d].call(code), inputs).to(CPU).data<float>().ToArray();
            for (int i = 0; i < n; i++)
            {
                if (labels[i] == d) own[i] = losses[i];
                else if (losses[i] < other[i] || float.IsNaN(losses[i])) other[i] = losses[i];
            }
        }
        var latents = latent.to(CPU).contiguous().data<float>().ToArray();
        return new IdentityProbeLosses(own, other) { Latents = latents, LatentWidth = (int)latent.shape[1] };
    }

    private static IEnumerable<(long Identity, long[] Rows)> GroupRows(long[] labels)
    {
        var groups = new SortedDictionary<long, List<long>>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (!groups.TryGetValue(labels[i], out var list)) groups[labels[i]] = list = new List<long>();
            list.Add(i);
        }
        foreach (var (identity, rows) in groups)
            yield return (identity, rows.ToArray());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _encoder.Dispose(); _decoders.Dispose(); _loss.Dispose(); }
        base.Dispose(disposing);
    }
}
