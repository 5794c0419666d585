using FaceCluster.Common.Randomness;

namespace FaceCluster.Common.Planning;

/// <summary>
/// Splits the active face set into disjoint shards, one per rank, that together cover it, in proportion to the
/// ranks' local batches (so every worker goes through its shard at the same epoch rate). Deterministic: every
/// worker computes the same split from the same inputs, so shards never travel over the network.
/// </summary>
public static class ShardAssignment
{
    /// <param name="trainingIds">The manifest's training samples (any order; sorted internally).</param>
    /// <param name="excluded">Quarantined samples, left out of every shard.</param>
    /// <param name="localBatches">Local batch of each rank; shard sizes follow these proportions.</param>
    public static int[][] Split(IReadOnlyCollection<int> trainingIds, IReadOnlyCollection<int> excluded, ulong seed, long cycle, IReadOnlyList<int> localBatches)
    {
        if (localBatches.Count == 0) throw new ArgumentException("at least one rank is needed", nameof(localBatches));
        if (localBatches.Any(b => b < 0)) throw new ArgumentException("local batches cannot be negative", nameof(localBatches));
        var skip = excluded as ISet<int> ?? new HashSet<int>(excluded);
        var active = trainingIds.Where(id => !skip.Contains(id)).Distinct().ToArray();
        Array.Sort(active);
        DeterministicRng.Derive(seed, cycle, 0x5AAD).Shuffle(active.AsSpan());
        long total = localBatches.Sum(b => (long)b);
        var shards = new int[localBatches.Count][];
        long cumulative = 0;
        int start = 0;
        for (int r = 0; r < localBatches.Count; r++)
        {
            cumulative += localBatches[r];
            int end = total == 0 ? (r == localBatches.Count - 1 ? active.Length : 0)
                                 : (int)Math.Round((double)active.Length * cumulative / total, MidpointRounding.AwayFromZero);
            if (r == localBatches.Count - 1) end = active.Length;
            shards[r] = active[start..end];
            start = end;
        }
        return shards;
    }
}
