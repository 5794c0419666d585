using FaceCluster.Common.FaceSet;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Quality;

/// <summary>
/// A small good/bad face classifier: a <see cref="ConvTrunk"/> and one logit for "bad". Its labels are the face
/// set's identities, which must be exactly <see cref="GoodLabel"/> and <see cref="BadLabel"/> (a face set with a
/// good/ and a bad/ folder). Per-sample loss: binary cross-entropy with reduction none (target 1 for bad).
/// </summary>
public sealed class QualityFaceModel : nn.Module<Tensor, Tensor>, IFaceModel
{
    public const string GoodLabel = "good";
    public const string BadLabel = "bad";

    private readonly ConvTrunk _trunk;
    private readonly Linear _head;
    private readonly string[] _labels;
    private readonly int _badIndex;

    public QualityFaceModel(ModelPreset preset, IReadOnlyList<string> labels) : base("quality")
    {
        var set = labels.ToHashSet(StringComparer.Ordinal);
        if (labels.Count != 2 || !set.Contains(GoodLabel) || !set.Contains(BadLabel))
            throw new FaceClusterException($"the quality model trains on a face set with exactly two identity folders, '{GoodLabel}' and '{BadLabel}'; this one has [{string.Join(", ", labels)}]");
        Preset = preset;
        _labels = labels.ToArray();
        _badIndex = Array.IndexOf(_labels, BadLabel);
        _trunk = new ConvTrunk("trunk", preset);
        _head = nn.Linear(_trunk.OutputFeatures, 1);
        RegisterComponents();
        Components = [new ModelComponent("classifier", this)];
    }

    /// <summary>The canonical label order (what <see cref="FaceManifest.Identities"/> gives for good/ and bad/).</summary>
    public static IReadOnlyList<string> CanonicalLabels { get; } = [BadLabel, GoodLabel];

    public ModelKind Kind => ModelKind.Quality;
    public ModelPreset Preset { get; }
    public IReadOnlyList<string> Labels => _labels;
    public nn.Module Root => this;
    public IReadOnlyList<ModelComponent> Components { get; }
    public BatchKind BatchKind => BatchKind.Plain;
    public BatchComposition BatchComposition => BatchComposition.Shuffled;

    /// <summary>The label index meaning "bad".</summary>
    public int BadIndex => _badIndex;

    /// <summary>Logit of "bad", [N].</summary>
    public override Tensor forward(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        return _head.call(_trunk.call(inputs)).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>P(bad) per image, evaluated without a graph, on the host.</summary>
    public float[] PredictBad(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        bool wasTraining = training;
        eval();
        try { return torch.sigmoid(forward(inputs)).cpu().contiguous().data<float>().ToArray(); }
        finally { if (wasTraining) train(); }
    }

    public Tensor PerSampleLoss(Tensor inputs, Tensor? targets, long[] labels)
    {
        if (labels.Length != inputs.shape[0]) throw new ArgumentException($"{labels.Length} labels for {inputs.shape[0]} inputs", nameof(labels));
        using var scope = NewDisposeScope();
        var target = new float[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= _labels.Length) throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[i]} is outside 0..{_labels.Length - 1}");
            target[i] = labels[i] == _badIndex ? 1f : 0f;
        }
        var logits = forward(inputs);
        var t = torch.tensor(target, device: inputs.device).to(logits.dtype);
        return nn.functional.binary_cross_entropy_with_logits(logits, t, reduction: nn.Reduction.None).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _trunk.Dispose(); _head.Dispose(); }
        base.Dispose(disposing);
    }
}
