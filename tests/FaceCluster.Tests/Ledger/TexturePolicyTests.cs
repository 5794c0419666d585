using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.Ledger;

/// <summary>The texture prior in the policy: a far texture outlier is pruned once judging starts, without re-feeding, whatever its loss.</summary>
[Trait("Tier", "unit")]
public class TexturePolicyTests
{
    // 16 identities of 10, every face training like its identity (a memorised bad face looks like this). Sample 1 of each
    // identity: texture z 6 (a far outlier); sample 2: z 3 (below the default 3.5); sample 3: not scored (NaN).
    private static PolicyHarness Run(CurationPolicyOptions options)
    {
        var h = new PolicyHarness(16, 10, options, (_, _, _) => 0) { TrackMeanLog = true, TextureZ = i => (i % 10) switch { 1 => 6, 2 => 3, 3 => double.NaN, _ => 0 } };
        h.Run(0, 40);
        return h;
    }

    [Fact]
    public void A_far_texture_outlier_is_pruned_at_the_first_judged_cycle_and_a_near_one_stays()
    {
        var h = Run(CurationPolicyOptions.Default with { MaxPruneFraction = 0.15 });
        var pruned = h.With(SampleStatus.Quarantined);
        Assert.Equal(Enumerable.Range(0, h.N).Where(i => i % 10 == 1), pruned);
        long firstJudged = CurationPolicyOptions.Default.WarmupSteps / 40 - 1;
        Assert.All(h.Changes.Where(c => c.To == SampleStatus.Quarantined), c =>
        {
            Assert.StartsWith("texture outlier", c.Reason, StringComparison.Ordinal);
            Assert.Contains("(z 6.0)", c.Reason, StringComparison.Ordinal);
            // The per-cycle cap (2% of 160: 3 a cycle) spreads the 16 over six cycles from the first judged one.
            Assert.InRange(c.Cycle, firstJudged, firstJudged + 6);
            Assert.Equal(CurationSignals.Texture, CurationSignals.Of(c.Reason));
        });
        Assert.DoesNotContain(h.Changes, c => c.To == SampleStatus.Refed);
    }

    [Fact]
    public void With_the_texture_prior_off_or_a_higher_threshold_no_face_is_pruned()
    {
        Assert.Empty(Run(CurationPolicyOptions.Default with { DetectTexture = false }).With(SampleStatus.Quarantined));
        Assert.Empty(Run(CurationPolicyOptions.Default with { TextureZ = 6.5 }).With(SampleStatus.Quarantined));
    }

    [Fact]
    public void A_non_positive_threshold_is_refused_by_name()
    {
        var e = Assert.ThrowsAny<Exception>(() => (CurationPolicyOptions.Default with { TextureZ = 0 }).Validate());
        Assert.Contains("texture z", e.Message, StringComparison.Ordinal);
    }
}
