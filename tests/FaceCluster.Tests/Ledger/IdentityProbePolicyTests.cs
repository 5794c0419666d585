using FaceCluster.Tests.Support;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Tests.Ledger;

/// <summary>
/// The identity margin (ln own decoder's loss ÷ best other decoder's, from the workers' identity probes) as a curation
/// signal: faces that do not look like their identity are pruned even when their training loss looks ordinary.
/// </summary>
[Trait("Tier", "unit")]
public class IdentityProbePolicyTests
{
    private static readonly CurationPolicyOptions Defaults = CurationPolicyOptions.Default;

    private static bool IsForeign(int i) => i % 60 < 3; // 3 per identity, 24 of 480

    /// <summary>
    /// A good face's own decoder knows it: margin about ln 0.5, each face a little different (sd about 0.09, and the
    /// harness adds 0.09 of noise per probe: both as measured on the demo's run).
    /// </summary>
    private static double GoodMargin(int i) => -0.7 + 0.12 * Math.Sin(i * 12.9898);

    [Fact]
    public void Faces_that_do_not_look_like_their_identity_are_pruned_without_re_feeding_while_their_loss_looks_ordinary()
    {
        var h = new PolicyHarness(8, 60, Defaults, (_, _, _) => 0) { MarginNoise = 0.09, Margin = (i, _) => IsForeign(i) ? -0.05 : GoodMargin(i) };
        h.Run(0, 60);
        var foreign = Enumerable.Range(0, h.N).Where(IsForeign).ToArray();
        Assert.All(foreign, i => Assert.Equal(SampleStatus.Quarantined, h.Status[i]));
        Assert.All(foreign, i => Assert.False(h.EverHad(i, SampleStatus.Refed), $"sample {i} does not look like its identity and must not be re-fed"));
        var wrong = h.Changes.Where(c => c.To == SampleStatus.Quarantined && !IsForeign(c.Sample)).ToList();
        Assert.True(wrong.Count == 0, "good faces pruned: " + string.Join("; ", wrong.Select(c => $"{c.Sample} in cycle {c.Cycle}: {c.Reason}")));
        var prune = h.Changes.First(c => c.To == SampleStatus.Quarantined);
        Assert.Contains("identity outlier", prune.Reason);
        Assert.Contains(h.Decisions.Last().Outcomes.ToArray(), o => (o.Flags & CycleFlags.IdentityOutlier) == 0 && float.IsFinite(o.IdentityZ));
    }

    [Fact]
    public void Without_a_probe_nothing_is_judged_and_with_too_few_outlier_probes_nothing_is_acted_on()
    {
        var none = new PolicyHarness(8, 60, Defaults, (_, _, _) => 0);
        none.Run(0, 40);
        Assert.Empty(none.With(SampleStatus.Quarantined));
        Assert.All(none.Decisions.SelectMany(d => d.Outcomes.ToArray()), o => Assert.True(float.IsNaN(o.IdentityZ)));

        var few = new PolicyHarness(8, 60, Defaults with { IdentityPersistenceHits = 20, IdentityPersistenceProbes = 20 }, (_, _, _) => 0) { MarginNoise = 0.09, Margin = (i, _) => IsForeign(i) ? -0.05 : GoodMargin(i) };
        few.Run(0, 40);
        Assert.Empty(few.With(SampleStatus.Quarantined));
        Assert.Contains(few.Decisions.SelectMany(d => d.Outcomes.ToArray()), o => (o.Flags & CycleFlags.IdentityOutlier) != 0); // seen, not acted on
    }

    [Fact]
    public void One_odd_probe_of_a_good_face_is_chance_and_prunes_nothing()
    {
        // Every probe, a few good faces look foreign in that probe only (far from their identity: margin +0.7).
        var odd = new HashSet<(int, long)>();
        var rng = new Random(5);
        for (long c = 0; c < 60; c++)
            for (int k = 0; k < 4; k++) odd.Add((rng.Next(480), c));
        var h = new PolicyHarness(8, 60, Defaults, (_, _, _) => 0) { MarginNoise = 0.09, Margin = (i, c) => odd.Contains((i, c)) ? 0.7 : GoodMargin(i) };
        h.Run(0, 60);
        var pruned = h.Changes.Where(c => c.To == SampleStatus.Quarantined && c.Reason.Contains("identity outlier")).ToList();
        Assert.True(pruned.Count == 0, "pruned by chance: " + string.Join("; ", pruned.Select(c => $"{c.Sample} in cycle {c.Cycle}: {c.Reason}")));
        Assert.Contains(h.Decisions.SelectMany(d => d.Outcomes.ToArray()), o => o.IdentityZ > Defaults.IdentityOutlierZ); // the odd probes were seen
    }

    [Fact]
    public void Caps_and_review_mode_apply_to_identity_outliers_too()
    {
        var review = new PolicyHarness(8, 60, Defaults with { Mode = CurationMode.Review }, (_, _, _) => 0) { MarginNoise = 0.09, Margin = (i, _) => IsForeign(i) ? -0.05 : GoodMargin(i) };
        review.Run(0, 60);
        Assert.Empty(review.With(SampleStatus.Quarantined));
        Assert.Equal(Enumerable.Range(0, review.N).Where(IsForeign), review.With(SampleStatus.AwaitingReview));

        // A fifth of identity 0 (12 faces) looks foreign: the per-identity cap (10%, 6 of 60) holds.
        var capped = new PolicyHarness(8, 60, Defaults, (_, _, _) => 0) { MarginNoise = 0.09, Margin = (i, _) => i < 12 ? -0.05 : GoodMargin(i) };
        capped.Run(0, 60);
        Assert.Equal(6, capped.With(SampleStatus.Quarantined).Length);
    }
}
