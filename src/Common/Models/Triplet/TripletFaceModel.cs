using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Triplet;

/// <summary>
/// FaceNet/OpenFace-style face embeddings: 128-D, L2-normalised, trained with a triplet loss and online semi-hard
/// mining.
/// <para><b>Batches.</b> The model declares <see cref="BatchComposition"/> = P identities × K images
/// (<see cref="ImagesPerIdentity"/>, default 4); each worker's <see cref="Planning.LocalBatchSampler"/> draws its
/// local batch that way from its own shard.</para>
/// <para><b>Triplet selection</b> happens inside each worker's LOCAL batch only (no embeddings cross the network):
/// every anchor-positive pair of the local batch is used; its negative is a random semi-hard one from the same local
/// batch, d(a,p) &lt; d(a,n) &lt; d(a,p) + margin (squared distances, margin 0.2), chosen by
/// <see cref="SemiHardTripletMiner"/> from a stream seeded with the run's seed (<see cref="MiningStream"/>; it
/// advances with every loss computed, the worker's calibration steps included, and a resumed replica starts it
/// afresh); a pair without one is dropped.</para>
/// <para><b>Per-sample loss</b> = the mean of max(0, d(a,p) − d(a,n) + margin) over the triplets in which the sample is
/// the anchor, and 0 for a sample that anchors no triplet (no positive in its local batch, or no semi-hard negative
/// for any of its pairs). That 0 is a real value of the per-sample loss: it counts in the mean like any other, so
/// <see cref="Training.ReplicaTrainer"/>'s backward of sum(losses)/globalBatch, summed over workers, is exactly the
/// gradient of the mean per-sample loss over the global batch. The ledger sees these values too, so a sample
/// without triplets looks "easy" in that step.</para>
/// <para><b>Gradient averaging and batch balancing.</b> The all-reduce sums gradients of per-worker losses; mining is
/// per worker, so a global batch split 3 ways mines from 3 smaller pools than one worker with the whole batch would.
/// The balancer sizes local batches by speed, not by K: a local batch that is a multiple of K holds whole groups; if
/// it is not, one group is partial (r = n mod K images of one identity), and with r = 1 that image has no positive
/// and loss 0. Choose --batch as a multiple of K × workers to keep every group whole.</para>
/// </summary>
public sealed class TripletFaceModel : nn.Module<Tensor, Tensor>, IFaceModel
{
    /// <summary>FaceNet's margin α on squared distances.</summary>
    public const double DefaultMargin = 0.2;

    /// <summary>K of the P×K batches.</summary>
    public const int DefaultImagesPerIdentity = 4;

    private readonly EmbeddingNetwork _embedding;
    private readonly string[] _identities;
    private readonly DeterministicRng _miningRng;

    public TripletFaceModel(ModelPreset preset, IReadOnlyList<string> identities, ulong seed, double margin = DefaultMargin,
        int imagesPerIdentity = DefaultImagesPerIdentity) : base("triplet")
    {
        if (identities.Count < 2) throw new FaceClusterException($"the triplet model needs at least two identities (negatives come from other identities), got {identities.Count}");
        if (identities.Distinct(StringComparer.Ordinal).Count() != identities.Count) throw new FaceClusterException("identity names must be unique");
        if (!(margin > 0) || margin > 4) throw new FaceClusterException($"the triplet margin must be in (0, 4] (squared distances of unit vectors), got {margin}", ExitCodes.UsageError);
        Preset = preset;
        Margin = margin;
        _identities = identities.ToArray();
        BatchComposition = BatchComposition.IdentityGroups(imagesPerIdentity);
        _miningRng = MiningStream(seed);
        _embedding = new EmbeddingNetwork(preset);
        RegisterComponents();
        Components = [new ModelComponent("embedding", _embedding)];
    }

    /// <summary>The random stream that picks among semi-hard negatives, derived from the model's seed; advanced by every batch.</summary>
    public static DeterministicRng MiningStream(ulong seed) => DeterministicRng.Derive(seed, 0x7419_1E7);

    public ModelKind Kind => ModelKind.Triplet;
    public ModelPreset Preset { get; }
    public IReadOnlyList<string> Labels => _identities;
    public nn.Module Root => this;
    public IReadOnlyList<ModelComponent> Components { get; }
    public BatchKind BatchKind => BatchKind.Plain;
    public BatchComposition BatchComposition { get; }
    public int ImagesPerIdentity => BatchComposition.ImagesPerIdentity;
    public double Margin { get; }
    public EmbeddingNetwork Embedding => _embedding;

    /// <summary>Unit-length embeddings [N,128] (graph attached).</summary>
    public override Tensor forward(Tensor inputs) => _embedding.call(inputs);

    /// <summary>Embeddings for evaluation: eval mode, no graph, on the host.</summary>
    public float[] Embed(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        bool wasTraining = training;
        eval();
        try { return _embedding.call(inputs).cpu().contiguous().data<float>().ToArray(); }
        finally { if (wasTraining) train(); }
    }

    public Tensor PerSampleLoss(Tensor inputs, Tensor? targets, long[] labels)
    {
        int n = (int)inputs.shape[0];
        if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for {n} inputs", nameof(labels));
        using var scope = NewDisposeScope();
        var e = _embedding.call(inputs);
        var distances = SquaredDistances(e);
        float[] host = distances.detach().cpu().contiguous().data<float>().ToArray();
        var triplets = SemiHardTripletMiner.Mine(host, labels, Margin, _miningRng);
        var graphAnchor = e.sum(1) * 0; // keeps the result attached to the graph even when no triplet was mined
        if (triplets.Count == 0) return graphAnchor.MoveToOuterDisposeScope();

        var anchors = new long[triplets.Count];
        var ap = new long[triplets.Count];
        var an = new long[triplets.Count];
        var counts = new float[n];
        for (int t = 0; t < triplets.Count; t++)
        {
            var (a, p, neg) = triplets[t];
            anchors[t] = a;
            ap[t] = (long)a * n + p;
            an[t] = (long)a * n + neg;
            counts[a]++;
        }
        for (int i = 0; i < n; i++) if (counts[i] == 0) counts[i] = 1;
        var device = inputs.device;
        var flat = distances.flatten();
        var dap = flat.index_select(0, torch.tensor(ap, device: device));
        var dan = flat.index_select(0, torch.tensor(an, device: device));
        var perTriplet = torch.nn.functional.relu(dap - dan + Margin);
        var sums = torch.zeros(n, dtype: e.dtype, device: device).index_add(0, torch.tensor(anchors, device: device), perTriplet, 1);
        var losses = sums / torch.tensor(counts, device: device).to(e.dtype) + graphAnchor;
        return losses.MoveToOuterDisposeScope();
    }

    /// <summary>Squared Euclidean distances between rows of unit vectors: 2 − 2·cos, clamped at 0.</summary>
    public static Tensor SquaredDistances(Tensor embeddings)
    {
        using var scope = NewDisposeScope();
        var gram = embeddings.matmul(embeddings.t());
        var squares = gram.diagonal();
        var d = squares.unsqueeze(1) + squares.unsqueeze(0) - 2 * gram;
        return d.clamp_min(0).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _embedding.Dispose();
        base.Dispose(disposing);
    }
}
