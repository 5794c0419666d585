using FaceCluster.Common.Randomness;

namespace FaceCluster.Common.Models.Triplet;

/// <summary>
/// LFW-style face verification on held-out images: pairs of the same and of different identities, split into k
/// folds (10 by default); for each fold the squared-distance threshold that maximises accuracy on the other k − 1
/// folds decides "same" (distance ≤ threshold) on that fold. The result is the mean ± standard deviation of the k
/// fold accuracies. Pure: embeddings in, numbers out.
/// </summary>
public static class VerificationEvaluator
{
    public const int DefaultFolds = 10;

    /// <summary>LFW's View 2 has 3,000 pairs of each kind.</summary>
    public const int DefaultPairsPerKind = 3000;

    /// <summary>
    /// Every same-identity pair (a deterministic random subset when there are more than <paramref name="maxPairsPerKind"/>)
    /// and as many different-identity pairs, drawn at random without repeats. Deterministic from <paramref name="seed"/>.
    /// </summary>
    public static VerificationPair[] MakePairs(IReadOnlyList<long> labels, int maxPairsPerKind = DefaultPairsPerKind, ulong seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPairsPerKind, 1);
        var rng = new DeterministicRng(seed);
        var same = new List<VerificationPair>();
        var groups = Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).Select(g => g.ToArray()).ToArray();
        if (groups.Length < 2) throw new FaceClusterException($"verification needs held-out images of at least two identities, got {groups.Length}");
        foreach (var g in groups)
            for (int i = 0; i < g.Length; i++)
                for (int j = i + 1; j < g.Length; j++)
                    same.Add(new VerificationPair(g[i], g[j], true));
        if (same.Count == 0) throw new FaceClusterException("verification needs at least one identity with two held-out images");
        var sameArray = same.ToArray();
        rng.Shuffle(sameArray.AsSpan());
        int count = Math.Min(maxPairsPerKind, sameArray.Length);
        long possibleDifferent = (long)labels.Count * (labels.Count - 1) / 2 - same.Count;
        count = (int)Math.Min(count, possibleDifferent);
        var pairs = new List<VerificationPair>(2 * count);
        pairs.AddRange(sameArray.AsSpan(0, count).ToArray());
        var seen = new HashSet<(int, int)>();
        while (seen.Count < count)
        {
            int a = rng.NextInt(labels.Count), b = rng.NextInt(labels.Count);
            if (labels[a] == labels[b]) continue;
            var key = a < b ? (a, b) : (b, a);
            if (seen.Add(key)) pairs.Add(new VerificationPair(key.Item1, key.Item2, false));
        }
        return pairs.ToArray();
    }

    /// <summary>k-fold verification accuracy of <paramref name="pairs"/> over row-major embeddings of <paramref name="dimensions"/> floats each.</summary>
    public static VerificationResult Evaluate(ReadOnlySpan<float> embeddings, int dimensions, IReadOnlyList<VerificationPair> pairs, int folds = DefaultFolds, ulong seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (folds < 2) throw new FaceClusterException($"verification needs at least 2 folds, got {folds}", ExitCodes.UsageError);
        if (embeddings.Length % dimensions != 0) throw new ArgumentException($"{embeddings.Length} floats are not rows of {dimensions}", nameof(embeddings));
        int rows = embeddings.Length / dimensions;
        int sameCount = pairs.Count(p => p.Same), differentCount = pairs.Count - sameCount;
        if (sameCount < folds || differentCount < folds)
            throw new FaceClusterException($"{folds}-fold verification needs at least {folds} pairs of each kind, got {sameCount} same and {differentCount} different");

        // Stratified folds: same pairs and different pairs are dealt round-robin after a deterministic shuffle.
        var order = Enumerable.Range(0, pairs.Count).ToArray();
        new DeterministicRng(seed).Shuffle(order.AsSpan());
        var fold = new int[pairs.Count];
        int s = 0, d = 0;
        foreach (int i in order) fold[i] = pairs[i].Same ? s++ % folds : d++ % folds;

        var distance = new double[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            var (a, b, _) = pairs[i];
            if ((uint)a >= (uint)rows || (uint)b >= (uint)rows) throw new ArgumentOutOfRangeException(nameof(pairs), $"pair ({a}, {b}) names a row outside 0..{rows - 1}");
            var x = embeddings.Slice(a * dimensions, dimensions);
            var y = embeddings.Slice(b * dimensions, dimensions);
            double sum = 0;
            for (int k = 0; k < dimensions; k++) { double t = x[k] - y[k]; sum += t * t; }
            distance[i] = sum;
        }

        var accuracies = new double[folds];
        var thresholds = new double[folds];
        for (int f = 0; f < folds; f++)
        {
            var train = Enumerable.Range(0, pairs.Count).Where(i => fold[i] != f).ToArray();
            double threshold = BestThreshold(train.Select(i => distance[i]).ToArray(), train.Select(i => pairs[i].Same).ToArray());
            int correct = 0, total = 0;
            for (int i = 0; i < pairs.Count; i++)
            {
                if (fold[i] != f) continue;
                total++;
                if ((distance[i] <= threshold) == pairs[i].Same) correct++;
            }
            accuracies[f] = (double)correct / total;
            thresholds[f] = threshold;
        }
        double mean = accuracies.Average();
        double std = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / folds);
        return new VerificationResult(mean, std, accuracies, thresholds, sameCount, differentCount);
    }

    /// <summary>The threshold (pairs with distance ≤ it are "same") with the highest accuracy, by one sweep over the sorted distances.</summary>
    public static double BestThreshold(double[] distances, bool[] same)
    {
        if (distances.Length != same.Length) throw new ArgumentException("one label per distance", nameof(same));
        if (distances.Length == 0) throw new ArgumentException("no pairs to choose a threshold from", nameof(distances));
        var index = Enumerable.Range(0, distances.Length).OrderBy(i => distances[i]).ToArray();
        int totalDifferent = same.Count(x => !x);
        // Threshold below every distance: everything is "different".
        int correct = totalDifferent, best = correct;
        double bestThreshold = distances[index[0]] - 1e-6;
        for (int k = 0; k < index.Length; k++)
        {
            correct += same[index[k]] ? 1 : -1;
            bool lastOfTie = k == index.Length - 1 || distances[index[k + 1]] > distances[index[k]];
            if (!lastOfTie || correct <= best) continue;
            best = correct;
            bestThreshold = k == index.Length - 1 ? distances[index[k]] + 1e-6 : (distances[index[k]] + distances[index[k + 1]]) / 2;
        }
        return bestThreshold;
    }
}
