using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Tests.Support;
using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Tests.Ledger;

[Trait("Tier", "unit")]
public class CurationSignalsTests
{
    [Theory]
    [InlineData("trajectory outlier: its mean loss over its 90 observations since it was first seen is ×1.41 its identity's median (z 6.0): ...", "trajectory")]
    [InlineData("texture outlier: with the light normalised, its local texture (LBP histograms on a grid) is ×1.90 its identity's median distance ... (z 4.2), ...", "texture")]
    [InlineData("no face where its set's faces are (OpenCV's Haar cascades), and it trained badly from the start: ...", "face prior")]
    [InlineData("identity outlier in 2 of its last 2 probes: its own decoder reconstructs it hardly better than another identity's", "identity probe")]
    [InlineData("would prune: identity outlier in 2 of its last 2 probes", "identity probe")]
    [InlineData("low outlier: far easier than its identity's faces, as a blank or flat image is (z -6.1) in 3 of its last 4 evaluations", "low loss")]
    [InlineData("erratic: its loss swings far more than its identity's faces' (spread z 7.0) while re-fed", "erratic loss")]
    [InlineData("stayed an outlier while re-fed ×3 (×2.03 → ×1.98 its identity's median over 3 re-fed cycles, z 5.1)", "loss, re-fed")]
    [InlineData("high outlier in 3 of its last 4 evaluations (×1.9 its identity's median, z 4.0), 5 cycles after re-feeding made it normal: memorised, not learned", "loss, relapsed")]
    [InlineData("high outlier in 4 of its last 4 evaluations (×2.1 its identity's median, z 5.0)", "loss")]
    [InlineData("quarantined on review by a person", "person")]
    [InlineData("", "other")]
    public void Every_rule_s_reason_names_its_signal(string reason, string signal) => Assert.Equal(signal, CurationSignals.Of(reason));

    [Fact]
    public void Every_prune_the_policy_makes_names_a_known_signal()
    {
        // The policy's own reasons, not copies: persistent high, low and identity outliers, and memorised faces.
        var h = new PolicyHarness(8, 60, CurationPolicyOptions.Default, (i, c, refed) => (i % 60) switch
        {
            0 => 0.9,
            1 => -1.2,
            2 => c < 30 && refed == 0 ? 0.6 : 0.02,
            _ => 0,
        }) { TrackMeanLog = true, Margin = (i, _) => i % 60 == 3 ? 0 : -0.7 };
        h.Run(0, 60);
        var pruned = h.Changes.Where(c => c.To == SampleStatus.Quarantined).ToList();
        Assert.NotEmpty(pruned);
        Assert.All(pruned, c => Assert.NotEqual(CurationSignals.Other, CurationSignals.Of(c.Reason)));
        Assert.Contains(pruned, c => CurationSignals.Of(c.Reason) == CurationSignals.IdentityProbe);
        Assert.Contains(pruned, c => CurationSignals.Of(c.Reason) == CurationSignals.LowLoss);
    }
}
