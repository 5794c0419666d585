using FaceCluster.Common.Randomness;

namespace FaceCluster.Common.Models.Triplet;

/// <summary>
/// Online semi-hard triplet selection inside one batch (FaceNet, section 3.2). Distances are squared Euclidean
/// distances between L2-normalised embeddings (0..4), as in FaceNet. For every anchor-positive pair (a, p) — every
/// ordered pair of distinct rows with the same label, all of them used — the candidates are the negatives n (another
/// label) inside the margin: d(a,p) &lt; d(a,n) &lt; d(a,p) + margin. One of them is picked at random (from the miner's
/// own deterministic stream); a pair with no such negative is dropped.
/// </summary>
public static class SemiHardTripletMiner
{
    /// <param name="squaredDistances">Row-major N×N matrix of squared distances.</param>
    /// <param name="labels">The N rows' identities.</param>
    /// <param name="margin">The triplet margin α.</param>
    /// <param name="rng">Picks among the candidates; the same stream gives the same triplets.</param>
    public static List<TripletIndex> Mine(ReadOnlySpan<float> squaredDistances, ReadOnlySpan<long> labels, double margin, DeterministicRng rng)
    {
        int n = labels.Length;
        if (squaredDistances.Length != n * n) throw new ArgumentException($"expected {n}x{n} distances, got {squaredDistances.Length}", nameof(squaredDistances));
        if (!(margin > 0)) throw new ArgumentOutOfRangeException(nameof(margin), "the margin must be positive");
        var triplets = new List<TripletIndex>();
        var candidates = new List<int>(n);
        for (int a = 0; a < n; a++)
        {
            var row = squaredDistances.Slice(a * n, n);
            for (int p = 0; p < n; p++)
            {
                if (p == a || labels[p] != labels[a]) continue;
                float dap = row[p];
                double upper = dap + margin;
                candidates.Clear();
                for (int k = 0; k < n; k++)
                    if (labels[k] != labels[a] && row[k] > dap && row[k] < upper) candidates.Add(k);
                if (candidates.Count == 0) continue;
                int pick = candidates.Count == 1 ? candidates[0] : candidates[rng.NextInt(candidates.Count)];
                triplets.Add(new TripletIndex(a, p, pick));
            }
        }
        return triplets;
    }
}
