using FaceCluster.Tests.Support;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Tests.Ledger;

/// <summary>
/// The trajectory signal: a face's mean relative loss over its whole history, against its identity's median and a
/// spread pooled over all identities. Real face sets have few images per identity, so the decoders memorise bad faces
/// and the moving average forgets them; these tests model that with faces whose loss falls once they are re-fed.
/// </summary>
[Trait("Tier", "unit")]
public class TrajectoryPolicyTests
{
    private static readonly CurationPolicyOptions Defaults = CurationPolicyOptions.Default;

    /// <summary>
    /// 32 identities of 8 faces (LFWcrop's shape). Sample 5 of every identity is a misaligned face: ×1.73 its identity's
    /// median until the decoders memorise it after cycle 30, and at once when re-fed. Sample 6 of the even identities is
    /// hard but good: ×1.15 throughout (side light, a turned head).
    /// </summary>
    private static double Level(int i, long cycle, int refed) => (i % 8) switch
    {
        5 => cycle < 30 && refed == 0 ? 0.55 : 0.02,
        6 when i / 8 % 2 == 0 => 0.14,
        _ => 0,
    };

    [Fact]
    public void A_bad_face_the_model_memorises_is_still_pruned_for_its_trajectory_and_hard_good_faces_stay()
    {
        var h = new PolicyHarness(32, 8, Defaults with { MaxPruneFraction = 0.15 }, Level) { TrackMeanLog = true, Noise = 0.15 };
        h.Run(0, 60);
        var bad = Enumerable.Range(0, h.N).Where(i => i % 8 == 5).ToArray();
        var quarantined = h.With(SampleStatus.Quarantined);
        Assert.True(bad.Count(b => h.Status[b] == SampleStatus.Quarantined) >= bad.Length * 9 / 10,
            $"{bad.Count(b => h.Status[b] == SampleStatus.Quarantined)} of {bad.Length} memorised bad faces pruned");
        var good = quarantined.Where(i => i % 8 != 5).ToList();
        Assert.True(good.Count == 0, "good faces pruned: " + string.Join("; ", good.Select(i => h.Changes.Last(c => c.Sample == i).Reason)));
        Assert.Contains(h.Changes, c => c.To == SampleStatus.Quarantined && c.Reason.StartsWith("trajectory outlier", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_the_trajectory_the_same_memorised_faces_escape()
    {
        // The control: the same run with the signal off prunes few of them, so the test above measures the signal.
        var h = new PolicyHarness(32, 8, Defaults with { MaxPruneFraction = 0.15, DetectTrajectory = false }, Level) { TrackMeanLog = true, Noise = 0.15 };
        h.Run(0, 60);
        var bad = Enumerable.Range(0, h.N).Where(i => i % 8 == 5).ToArray();
        Assert.True(bad.Count(b => h.Status[b] == SampleStatus.Quarantined) < bad.Length / 2);
    }

    [Fact]
    public void An_identity_that_is_harder_as_a_whole_is_its_own_reference()
    {
        // Identity 3's faces are all ×1.6 harder (a poor camera): none of them is an outlier of its identity.
        var h = new PolicyHarness(32, 8, Defaults, (i, _, _) => i / 8 == 3 ? 0.47 : 0) { TrackMeanLog = true, Noise = 0.15 };
        h.Run(0, 60);
        Assert.Empty(h.With(SampleStatus.Quarantined));
    }

    [Fact]
    public void A_restored_face_is_never_pruned_again_for_its_trajectory()
    {
        var h = new PolicyHarness(32, 8, Defaults, Level) { TrackMeanLog = true, Noise = 0.15 };
        h.Status[5] = SampleStatus.Restored;
        h.Run(0, 60);
        Assert.Equal(SampleStatus.Restored, h.Status[5]);
    }

    [Fact]
    public void Invalid_trajectory_options_are_refused_naming_them()
    {
        var e = Assert.Throws<FaceClusterException>(() => (Defaults with { MinTrajectoryRatio = 0.9 }).Validate());
        Assert.Contains("min trajectory ratio 0.9", e.Message);
        e = Assert.Throws<FaceClusterException>(() => (Defaults with { TrajectoryZ = double.NaN }).Validate());
        Assert.Contains("trajectory z", e.Message);
    }
}

/// <summary>The face prior: a face the Haar cascades did not find is pruned only if it also trained badly from the start.</summary>
[Trait("Tier", "unit")]
public class FacePriorPolicyTests
{
    // 32 identities of 8. Sample 1 of each identity: no face found and ×1.57 early, then memorised (a rotated face).
    // Sample 2: no face found, trains like its identity (a turned head). Sample 3: face found, ×1.35 early, then
    // memorised (a hard face the model learns). Sample 4: no face found, ×1.08 early (a mildly hard turned head).
    private static double Level(int i, long cycle, int refed) => (i % 8) switch
    {
        1 => cycle < 8 ? 0.45 : 0.01,
        3 => cycle < 8 ? 0.3 : 0.01,
        4 => cycle < 8 ? 0.08 : 0,
        _ => 0,
    };

    private static PolicyHarness Run(CurationPolicyOptions options)
    {
        var h = new PolicyHarness(32, 8, options with { MaxPruneFraction = 0.15 }, Level) { TrackMeanLog = true, Noise = 0.15, NoFace = i => i % 8 is 1 or 2 or 4 };
        h.Run(0, 60);
        return h;
    }

    [Fact]
    public void No_face_and_a_bad_start_together_prune_and_neither_alone_does()
    {
        var h = Run(CurationPolicyOptions.Default with { FaceCheck = true });
        var target = Enumerable.Range(0, h.N).Where(i => i % 8 == 1).ToArray();
        Assert.True(target.Count(i => h.Status[i] == SampleStatus.Quarantined) >= target.Length * 9 / 10,
            $"{target.Count(i => h.Status[i] == SampleStatus.Quarantined)} of {target.Length} faceless faces with a bad start pruned; the others: " + string.Join("; ", target.Where(i => h.Status[i] != SampleStatus.Quarantined).Select(i => $"{i} {h.Status[i]} {h.Changes.LastOrDefault(c => c.Sample == i).Reason} early {h.LastSamples.First(x => x.Index == i).EarlyLog:0.000} id {string.Join(",", h.LastSamples.Where(x => x.Identity == i / 8).Select(x => x.EarlyLog.ToString("0.00")))}")));
        var wrong = h.With(SampleStatus.Quarantined).Where(i => i % 8 != 1).ToList();
        Assert.True(wrong.Count == 0, "pruned on one signal alone: " + string.Join("; ", wrong.Select(i => $"{i % 8}: {h.Changes.Last(c => c.Sample == i).Reason}")));
        Assert.Contains(h.Changes, c => c.To == SampleStatus.Quarantined && c.Reason.StartsWith("no face where its set's faces are", StringComparison.Ordinal));
    }

    [Fact]
    public void With_the_face_check_off_the_same_faces_stay()
    {
        var h = Run(CurationPolicyOptions.Default with { FaceCheck = false });
        Assert.DoesNotContain(h.Changes, c => c.To == SampleStatus.Quarantined && c.Reason.StartsWith("no face", StringComparison.Ordinal));
        Assert.True(Enumerable.Range(0, h.N).Count(i => i % 8 == 1 && h.Status[i] == SampleStatus.Quarantined) < 8);
    }
}
