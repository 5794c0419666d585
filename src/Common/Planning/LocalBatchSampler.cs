using FaceCluster.Common.Randomness;

namespace FaceCluster.Common.Planning;

/// <summary>
/// Draws one worker's local batches from its shard, epoch by epoch: every sample once per epoch in a fresh
/// shuffled order, and a re-fed sample with weight w about w times per epoch (the integer part always, the
/// fraction by chance). Deterministic from its seed, so a resumed run draws the same batches.
/// </summary>
public sealed class LocalBatchSampler
{
    private readonly int[] _shard;
    private readonly Dictionary<int, float> _weights;
    private readonly DeterministicRng _rng;
    private readonly List<int> _epoch = new();
    private int _position;

    public LocalBatchSampler(int[] shard, IReadOnlyDictionary<int, float> refeedWeights, DeterministicRng rng)
    {
        _shard = shard;
        _weights = refeedWeights.Where(kv => kv.Value > 1f && float.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value);
        _rng = rng;
    }

    public int ShardSize => _shard.Length;

    /// <summary>Samples drawn so far across epochs.</summary>
    public long Drawn { get; private set; }

    public int Epoch { get; private set; }

    /// <summary>The next <paramref name="count"/> sample ids (empty when the shard is empty).</summary>
    public int[] Next(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (_shard.Length == 0 || count == 0) return [];
        var batch = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (_position >= _epoch.Count) NewEpoch();
            batch[i] = _epoch[_position++];
        }
        Drawn += count;
        return batch;
    }

    private void NewEpoch()
    {
        _epoch.Clear();
        foreach (int id in _shard)
        {
            _epoch.Add(id);
            if (_weights.TryGetValue(id, out float w))
            {
                int extra = (int)Math.Floor(w) - 1;
                for (int k = 0; k < extra; k++) _epoch.Add(id);
                if (_rng.NextDouble() < w - Math.Floor(w)) _epoch.Add(id);
            }
        }
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_epoch);
        _rng.Shuffle(span);
        _position = 0;
        Epoch++;
    }
}
