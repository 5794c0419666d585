using System.Runtime.InteropServices;
using FaceCluster.Common.Randomness;

namespace FaceCluster.Common.Planning;

/// <summary>
/// Draws one worker's local batches from its shard, epoch by epoch: every sample once per epoch in a fresh
/// shuffled order, and a re-fed sample with weight w about w times per epoch (the integer part always, the
/// fraction by chance). Deterministic from its seed, so a resumed run draws the same batches.
/// <para>
/// P×K mode (a model that declares K images per identity, e.g. the triplet model): each epoch, every identity's
/// samples (re-fed ones repeated as above) are shuffled and cut into groups of K, the last group topped up from the
/// start of the same shuffled list so that it also has K (an identity with fewer than K samples in the shard gives
/// one smaller group of all it has); the groups are shuffled and a batch of n takes whole groups while n − taken ≥ the
/// next group's size, then the first n − taken images of the next group (whose rest is dropped for this epoch). So a
/// batch that is a multiple of K holds P = n / K identities × K images; otherwise one group is partial (r = n mod K
/// images; r = 1 is an image with no positive). Over an epoch each sample appears about once (re-fed: about w times)
/// as in the plain mode, so re-feed weights are honoured in both modes.
/// </para>
/// </summary>
public sealed class LocalBatchSampler
{
    private readonly int[] _shard;
    private readonly Dictionary<int, float> _weights;
    private readonly DeterministicRng _rng;
    private readonly List<int> _epoch = new();
    private readonly Func<int, long>? _labelOf;
    private readonly int _groupSize;
    private readonly List<int[]> _groups = new();
    private int _position;

    public LocalBatchSampler(int[] shard, IReadOnlyDictionary<int, float> refeedWeights, DeterministicRng rng)
    {
        _shard = shard;
        _weights = refeedWeights.Where(kv => kv.Value > 1f && float.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value);
        _rng = rng;
    }

    /// <summary>P×K mode: batches of groups of <paramref name="imagesPerIdentity"/> images of one identity each.</summary>
    /// <param name="labelOf">The identity (label index) of a sample id of the shard.</param>
    public LocalBatchSampler(int[] shard, IReadOnlyDictionary<int, float> refeedWeights, DeterministicRng rng, Func<int, long> labelOf, int imagesPerIdentity)
        : this(shard, refeedWeights, rng)
    {
        ArgumentNullException.ThrowIfNull(labelOf);
        if (imagesPerIdentity < 2) throw new ArgumentOutOfRangeException(nameof(imagesPerIdentity), "P×K batches need at least 2 images per identity");
        _labelOf = labelOf;
        _groupSize = imagesPerIdentity;
    }

    public int ShardSize => _shard.Length;

    /// <summary>K of the P×K mode; 0 in the plain mode.</summary>
    public int ImagesPerIdentity => _groupSize;

    /// <summary>Samples drawn so far across epochs.</summary>
    public long Drawn { get; private set; }

    public int Epoch { get; private set; }

    /// <summary>The next <paramref name="count"/> sample ids (empty when the shard is empty).</summary>
    public int[] Next(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (_shard.Length == 0 || count == 0) return [];
        var batch = _labelOf is null ? NextPlain(count) : NextGrouped(count);
        Drawn += count;
        return batch;
    }

    private int[] NextPlain(int count)
    {
        var batch = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (_position >= _epoch.Count) NewEpoch();
            batch[i] = _epoch[_position++];
        }
        return batch;
    }

    private int[] NextGrouped(int count)
    {
        var batch = new int[count];
        int filled = 0;
        while (filled < count)
        {
            if (_position >= _groups.Count) NewGroupedEpoch();
            var group = _groups[_position++];
            int take = Math.Min(group.Length, count - filled);
            group.AsSpan(0, take).CopyTo(batch.AsSpan(filled));
            filled += take;
        }
        return batch;
    }

    /// <summary>The shard's samples with re-fed ones repeated (w times: the integer part always, the fraction by chance).</summary>
    private void AddWeighted(List<int> into, int id)
    {
        into.Add(id);
        if (_weights.TryGetValue(id, out float w))
        {
            int extra = (int)Math.Floor(w) - 1;
            for (int k = 0; k < extra; k++) into.Add(id);
            if (_rng.NextDouble() < w - Math.Floor(w)) into.Add(id);
        }
    }

    private void NewEpoch()
    {
        _epoch.Clear();
        foreach (int id in _shard) AddWeighted(_epoch, id);
        _rng.Shuffle(CollectionsMarshal.AsSpan(_epoch));
        _position = 0;
        Epoch++;
    }

    private void NewGroupedEpoch()
    {
        var byIdentity = new SortedDictionary<long, List<int>>();
        foreach (int id in _shard)
        {
            long label = _labelOf!(id);
            if (!byIdentity.TryGetValue(label, out var list)) byIdentity[label] = list = new List<int>();
            AddWeighted(list, id);
        }
        _groups.Clear();
        foreach (var list in byIdentity.Values)
        {
            _rng.Shuffle(CollectionsMarshal.AsSpan(list));
            if (list.Count <= _groupSize)
            {
                _groups.Add(list.ToArray());
                continue;
            }
            for (int start = 0; start < list.Count; start += _groupSize)
            {
                var group = new int[_groupSize];
                for (int j = 0; j < _groupSize; j++) group[j] = list[(start + j) % list.Count];
                _groups.Add(group);
            }
        }
        _rng.Shuffle(CollectionsMarshal.AsSpan(_groups));
        _position = 0;
        Epoch++;
    }
}
