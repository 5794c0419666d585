using FaceCluster.Tests.Support;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Common.Randomness;

namespace FaceCluster.Tests.Ledger;

/// <summary>
/// Latent outliers: a face that the shared encoder places far from its identity's faces, probe after probe, is pruned
/// (never re-fed) even when its training loss and identity margin look ordinary, as a memorised bad face's do; a good
/// face, or one far probe, is not.
/// </summary>
[Trait("Tier", "unit")]
public class LatentPolicyTests
{
    private const int Width = 16, Identities = 8, PerIdentity = 60;
    private static readonly CurationPolicyOptions Defaults = CurationPolicyOptions.Default with { DetectLatent = true };

    private static bool IsFar(int i) => i % PerIdentity < 3; // 3 per identity, 24 of 480

    /// <summary>
    /// Per identity a centre; each face at a fixed offset of its own (3.5 to 4.5 from the centre, in a direction of its
    /// own: how far a good face of the identity may be) with fresh noise per probe; a far face 10 further in a direction
    /// of its own.
    /// </summary>
    private static Func<int, long, float[]> Latents(Func<int, bool> far, ulong seed = 11)
    {
        var rng = new DeterministicRng(seed);
        double G() { double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble(); return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2); }
        var centre = Enumerable.Range(0, Identities).Select(_ => Enumerable.Range(0, Width).Select(_ => 0.5 * G()).ToArray()).ToArray();
        double[] Direction(double length)
        {
            var d = Enumerable.Range(0, Width).Select(_ => G()).ToArray();
            double norm = Math.Sqrt(d.Sum(x => x * x));
            return d.Select(x => length * x / norm).ToArray();
        }
        var own = Enumerable.Range(0, Identities * PerIdentity).Select(_ => Direction(3.5 + rng.NextDouble())).ToArray();
        var away = Enumerable.Range(0, Identities * PerIdentity).Select(_ => Direction(10)).ToArray();
        return (i, cycle) =>
        {
            var noise = new DeterministicRng(seed + (ulong)(i * 1000 + cycle));
            var v = new float[Width];
            for (int j = 0; j < Width; j++)
            {
                double u1 = 1 - noise.NextDouble(), u2 = noise.NextDouble();
                double x = centre[i / PerIdentity][j] + own[i][j] + 0.05 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                if (far(i)) x += away[i][j];
                v[j] = (float)x;
            }
            return v;
        };
    }

    [Fact]
    public void Faces_far_from_their_identity_in_the_latent_space_are_pruned_without_re_feeding_and_no_good_face_is()
    {
        var h = new PolicyHarness(Identities, PerIdentity, Defaults, (_, _, _) => 0) { Latent = Latents(IsFar) };
        h.Run(0, 60);
        var far = Enumerable.Range(0, h.N).Where(IsFar).ToArray();
        Assert.All(far, i => Assert.Equal(SampleStatus.Quarantined, h.Status[i]));
        Assert.All(far, i => Assert.False(h.EverHad(i, SampleStatus.Refed), $"sample {i} is far from its identity and must not be re-fed"));
        var wrong = h.Changes.Where(c => c.To == SampleStatus.Quarantined && !IsFar(c.Sample)).ToList();
        Assert.True(wrong.Count == 0, "good faces pruned: " + string.Join("; ", wrong.Select(c => $"{c.Sample} in cycle {c.Cycle}: {c.Reason}")));
        var prune = h.Changes.First(c => c.To == SampleStatus.Quarantined);
        Assert.StartsWith("latent outlier in 2 of its last 2 probes", prune.Reason);
        Assert.Equal(CurationSignals.Latent, CurationSignals.Of(prune.Reason));
        Assert.Contains(h.Decisions.SelectMany(d => d.Outcomes.ToArray()), o => (o.Flags & CycleFlags.IdentityOutlier) != 0);
    }

    [Fact]
    public void Without_latents_or_with_the_signal_off_nothing_is_judged_by_them()
    {
        Assert.False(CurationPolicyOptions.Default.DetectLatent, "off by default (--latent-outliers)");
        var off = new PolicyHarness(Identities, PerIdentity, Defaults with { DetectLatent = false }, (_, _, _) => 0) { Latent = Latents(IsFar) };
        off.Run(0, 60);
        Assert.Empty(off.With(SampleStatus.Quarantined));

        var none = new PolicyHarness(Identities, PerIdentity, Defaults, (_, _, _) => 0);
        none.Run(0, 60);
        Assert.Empty(none.With(SampleStatus.Quarantined));
        Assert.All(none.Decisions.SelectMany(d => d.Outcomes.ToArray()), o => Assert.Equal(0u, o.ProbeOutlierBits));
    }

    [Fact]
    public void One_far_probe_of_a_good_face_is_chance_and_prunes_nothing()
    {
        // Every probe, a few good faces land far from their identity in that probe only.
        var odd = new HashSet<(int, long)>();
        var rng = new Random(5);
        for (long c = 0; c < 60; c++)
            for (int k = 0; k < 4; k++) odd.Add((rng.Next(Identities * PerIdentity), c));
        var h = new PolicyHarness(Identities, PerIdentity, Defaults, (_, _, _) => 0);
        var far = Latents(i => false);
        var farAway = Latents(i => true);
        h.Latent = (i, c) => odd.Contains((i, c)) ? farAway(i, c) : far(i, c);
        h.Run(0, 60);
        Assert.Empty(h.With(SampleStatus.Quarantined));
        Assert.Contains(h.Decisions.SelectMany(d => d.Outcomes.ToArray()), o => (o.Flags & CycleFlags.IdentityOutlier) != 0); // the odd probes were seen
    }

    [Fact]
    public void Latent_scores_measure_each_face_against_the_centre_of_its_identitys_other_faces()
    {
        // Identity 0: five faces on a line and one far; identity 1: a single face (no centre without it); a face without a latent.
        float[][] rows =
        [
            [0, 0], [1, 0], [0, 1], [1, 1], [0.5f, 0.5f], [9, 9],
            [4, 4],
            [float.NaN, float.NaN],
        ];
        int[] identity = [0, 0, 0, 0, 0, 0, 1, 0];
        var samples = rows.Select((_, k) => new CurationSample(k, identity[k], SampleStatus.Active, 3, 0f, 20, 0f, 0.3f, SamplePolicyState.Initial)).ToArray();
        var snapshot = new CurationSnapshot(10, 1000, samples, [new IdentityCounts(7, 7, 0, 0), new IdentityCounts(1, 1, 0, 0)], 8, 0, 0)
        {
            Latents = rows.SelectMany(r => r).ToArray(), LatentWidth = 2,
        };
        var scores = LatentScores.Build(snapshot, Defaults)!;
        Assert.NotNull(scores);
        Assert.True(double.IsNaN(scores.Z[6]) && double.IsNaN(scores.Z[7]), "a lone face and a face without a latent are not judged");
        int worst = Enumerable.Range(0, 6).MaxBy(k => scores.Z[k]);
        Assert.Equal(5, worst);
        Assert.True(scores.Excess[5] > Math.Log(3), $"the far face is {Math.Exp(scores.Excess[5]):0.00} × the median distance");
        Assert.True(scores.Z[4] < 0, "the face at the centre is nearer than the median");

        var withoutLatents = snapshot with { Latents = ReadOnlyMemory<float>.Empty, LatentWidth = 0 };
        Assert.Null(LatentScores.Build(withoutLatents, Defaults));
    }
}
