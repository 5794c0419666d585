using FaceCluster.Common.Models.Triplet;
using FaceCluster.Common.Randomness;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
public class TripletVerificationTests
{
    private const int Dim = 16;

    private static (float[] Embeddings, long[] Labels) Constructed(int identities, int perIdentity, bool perfect, ulong seed)
    {
        var rng = new DeterministicRng(seed);
        int n = identities * perIdentity;
        var e = new float[n * Dim];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i / perIdentity;
            for (int k = 0; k < Dim; k++)
                e[i * Dim + k] = perfect
                    ? (k == labels[i] % Dim ? 1f : 0f) + (float)(0.01 * rng.NextDouble()) // one axis per identity
                    : (float)(rng.NextDouble() * 2 - 1);
        }
        return (e, labels);
    }

    [Fact]
    public void Perfect_embeddings_verify_perfectly()
    {
        var (e, labels) = Constructed(12, 8, perfect: true, seed: 1);
        var pairs = VerificationEvaluator.MakePairs(labels, 300, seed: 2);
        var result = VerificationEvaluator.Evaluate(e, Dim, pairs);
        Assert.Equal(1.0, result.MeanAccuracy, 6);
        Assert.Equal(0.0, result.StdAccuracy, 6);
        Assert.Equal(10, result.Folds);
        Assert.Equal(300, result.SamePairs);
        Assert.Equal(300, result.DifferentPairs);
        Assert.Matches(@"^verification accuracy: 1\.0000 ± 0\.0000 \(10-fold\)$", result.ToString());
    }

    [Fact]
    public void Random_embeddings_verify_at_chance()
    {
        var (e, labels) = Constructed(12, 10, perfect: false, seed: 3);
        var result = VerificationEvaluator.Evaluate(e, Dim, VerificationEvaluator.MakePairs(labels, 500, seed: 4));
        Assert.InRange(result.MeanAccuracy, 0.42, 0.58);
    }

    [Fact]
    public void Pairs_are_balanced_distinct_and_labelled_correctly()
    {
        long[] labels = [0, 0, 0, 1, 1, 2, 2, 2, 2];
        var pairs = VerificationEvaluator.MakePairs(labels, 1000, seed: 5);
        int same = pairs.Count(p => p.Same);
        Assert.Equal(3 + 1 + 6, same); // every same pair when there are fewer than the cap
        Assert.Equal(same, pairs.Length - same);
        Assert.All(pairs, p => Assert.Equal(labels[p.First] == labels[p.Second], p.Same));
        Assert.Equal(pairs.Length, pairs.Select(p => (Math.Min(p.First, p.Second), Math.Max(p.First, p.Second))).Distinct().Count());
        Assert.Equal(pairs, VerificationEvaluator.MakePairs(labels, 1000, seed: 5));
    }

    [Fact]
    public void The_threshold_is_chosen_on_the_training_folds()
    {
        double[] d = [0.1, 0.2, 0.3, 0.9, 1.0, 1.1, 0.35];
        bool[] same = [true, true, true, false, false, false, false];
        double t = VerificationEvaluator.BestThreshold(d, same);
        Assert.InRange(t, 0.3, 0.35); // between the last same pair and the closest different one
        Assert.All(Enumerable.Range(0, d.Length), i => Assert.Equal(same[i], d[i] <= t));
    }

    [Fact]
    public void Too_few_identities_or_pairs_are_clear_errors()
    {
        Assert.Throws<FaceClusterException>(() => VerificationEvaluator.MakePairs([0, 0, 0], 10));
        Assert.Throws<FaceClusterException>(() => VerificationEvaluator.MakePairs([0, 1, 2], 10));
        var pairs = VerificationEvaluator.MakePairs([0, 0, 1, 1], 10);
        var error = Assert.Throws<FaceClusterException>(() => VerificationEvaluator.Evaluate(new float[4 * Dim], Dim, pairs));
        Assert.Contains("10 pairs of each kind", error.Message);
    }
}
