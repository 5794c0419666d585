using FaceCluster.Tests.Support;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Tests.Ledger;

[Trait("Tier", "unit")]
public class CurationPolicyTests
{
    private static readonly CurationPolicyOptions Defaults = CurationPolicyOptions.Default;

    private static bool IsBad(int i) => i % 60 < 4; // 4 per identity, 32 of 480

    [Fact]
    public void Persistent_outliers_that_stay_high_while_refed_are_refed_first_then_pruned()
    {
        var h = new PolicyHarness(8, 60, Defaults, (i, _, _) => IsBad(i) ? 0.7 : 0);
        h.Run(0, 60);
        var bad = Enumerable.Range(0, h.N).Where(IsBad).ToArray();
        Assert.All(bad, i => Assert.Equal(SampleStatus.Quarantined, h.Status[i]));
        Assert.All(bad, i => Assert.True(h.EverHad(i, SampleStatus.Refed), $"sample {i} was pruned without being re-fed first"));
        var wrong = h.Changes.Where(c => c.To == SampleStatus.Quarantined && !IsBad(c.Sample)).ToList();
        Assert.True(wrong.Count == 0, "good faces pruned: " + string.Join("; ", wrong.Select(c => $"{c.Sample} in cycle {c.Cycle}: {c.Reason}")));
        var prune = h.Changes.First(c => c.To == SampleStatus.Quarantined);
        Assert.Contains("stayed an outlier while re-fed", prune.Reason);
    }

    [Fact]
    public void A_mild_persistent_high_outlier_is_re_fed_then_watched_but_never_pruned_for_its_loss_alone()
    {
        const int mild = 10, bad = 70; // ×1.49 its identity's median (the tail of good faces), and ×2.5
        var h = new PolicyHarness(8, 60, Defaults, (i, _, _) => i switch { mild => 0.4, bad => 0.9, _ => 0 }) { Noise = 0.1 };
        h.Run(0, 60);
        Assert.Equal(SampleStatus.Quarantined, h.Status[bad]);
        Assert.False(h.EverHad(mild, SampleStatus.Quarantined));
        Assert.True(h.EverHad(mild, SampleStatus.Refed), "the mild outlier is re-fed first, like any persistent high outlier");
        Assert.Contains(h.Changes, c => c.Sample == mild && c.To == SampleStatus.Flagged && c.Reason.Contains("below the prune ratio"));
    }

    [Fact]
    public void Single_sample_spikes_by_chance_are_never_pruned()
    {
        // Every cycle one random sample has a bad cycle: all its losses that cycle are 3 to 20 times its peers'.
        var spikes = new Dictionary<int, (long At, double Size)>();
        var rng = new Random(3);
        var h = new PolicyHarness(8, 60, Defaults, (i, c, _) => spikes.TryGetValue(i, out var s) && c == s.At ? s.Size : 0);
        for (long c = 0; c < 80; c++)
        {
            int victim = rng.Next(h.N);
            if (!spikes.ContainsKey(victim)) spikes[victim] = (c, Math.Log(3 + 17 * rng.NextDouble()));
            h.Cycle(c, (c + 1) * 40);
        }
        Assert.Empty(h.With(SampleStatus.Quarantined));
        Assert.DoesNotContain(h.Changes, c => c.To is SampleStatus.Quarantined or SampleStatus.AwaitingReview);
        Assert.Contains(h.Changes, c => c.To == SampleStatus.Flagged); // the spikes were seen…
        Assert.Contains(h.Changes, c => c.From != SampleStatus.Active && c.To == SampleStatus.Active); // …and forgiven
    }

    [Fact]
    public void A_hard_sample_whose_relative_loss_falls_while_refed_is_refed_again_then_released_never_pruned()
    {
        const int hard = 10, bad = 70;
        var h = new PolicyHarness(8, 60, Defaults, (i, _, refed) => i switch
        {
            hard => 0.7 * Math.Pow(0.8, refed), // learnable: falls by a fifth every re-fed cycle
            bad => 0.7,                          // stays an outlier however often it is seen
            _ => 0,
        });
        h.Run(0, 60);
        var hardRefeeds = h.Changes.Where(c => c.Sample == hard).ToList();
        Assert.Contains(hardRefeeds, c => c.To == SampleStatus.Refed);
        Assert.True(h.RefedCycles[hard] >= 2 * Defaults.RefeedCycles, $"the learnable sample was re-fed {h.RefedCycles[hard]} cycles: it should get a second window");
        Assert.Contains(hardRefeeds, c => c.From == SampleStatus.Refed && c.To == SampleStatus.Active && c.Reason.Contains("while re-fed"));
        Assert.False(h.EverHad(hard, SampleStatus.Quarantined));
        Assert.Equal(SampleStatus.Active, h.Status[hard]);
        Assert.Equal(SampleStatus.Quarantined, h.Status[bad]);
        Assert.True(h.EverHad(bad, SampleStatus.Refed));
    }

    [Fact]
    public void A_sample_that_relapses_after_refeed_made_it_normal_is_pruned_as_memorised()
    {
        const int memorised = 20;
        // Normal while re-fed (the model memorises it), an outlier again once the re-feed stops.
        var h = new PolicyHarness(8, 60, Defaults, (i, _, _) => 0);
        h.Level = (i, _, refed) => i != memorised ? 0 : h.Status[i] == SampleStatus.Refed && refed > 0 ? 0.02 : 0.7;
        h.Run(0, 60);
        var changes = h.Changes.Where(c => c.Sample == memorised).Select(c => c.To).ToList();
        Assert.Equal([SampleStatus.Flagged, SampleStatus.Refed, SampleStatus.Active, SampleStatus.Flagged, SampleStatus.Quarantined], changes);
        Assert.Contains("memorised", h.Changes.Last(c => c.Sample == memorised).Reason);
    }

    [Fact]
    public void Nothing_is_flagged_during_the_warm_up()
    {
        var options = Defaults with { WarmupSteps = 2000 };
        var h = new PolicyHarness(8, 60, options, (i, _, _) => IsBad(i) ? 1.0 : 0);
        h.Run(0, 49); // the last of these ends at step 1960
        Assert.Empty(h.Changes);
        Assert.All(h.Decisions, d => Assert.False(d.Decided));
        Assert.All(h.Decisions.SelectMany(d => d.Outcomes), o => Assert.Equal(0, (int)(o.Flags & CycleFlags.Evaluated)));
        Assert.All(h.State, s => Assert.Equal(0, s.Evaluated));
        h.Run(49, 50); // ends at step 2000: evaluated
        Assert.Contains(h.Changes, c => IsBad(c.Sample) && c.To == SampleStatus.Flagged);
    }

    [Fact]
    public void A_period_spaces_out_the_decisions()
    {
        var options = Defaults with { PeriodCycles = 5 };
        var h = new PolicyHarness(8, 60, options, (i, _, _) => IsBad(i) ? 0.7 : 0);
        h.Run(0, 60);
        Assert.All(h.Changes, c => Assert.Equal(0, c.Cycle % 5));
        Assert.All(h.Decisions, d => Assert.Equal(d.Cycle % 5 == 0 && (d.Cycle + 1) * 40 >= options.WarmupSteps, d.Decided));
        Assert.NotEmpty(h.With(SampleStatus.Quarantined));
    }

    [Fact]
    public void The_per_cycle_cap_prunes_the_worst_first()
    {
        var options = Defaults with { RefeedWeight = 1, WarmupSteps = 0 }; // no re-feed: persistent outliers are pruned at once
        var h = new PolicyHarness(8, 60, options, (i, _, _) => IsBad(i) ? 0.7 + 0.02 * (i % 60) + 0.01 * (i / 60) : 0) { Noise = 0.1 }; // ×2.0 and up: above the prune ratio
        long cycle = 0;
        while (h.With(SampleStatus.Quarantined).Length == 0 && cycle < 20) h.Cycle(cycle, ++cycle * 40);
        int perCycle = (int)Math.Floor(options.MaxPruneFractionPerCycle * h.N);
        var first = h.With(SampleStatus.Quarantined);
        Assert.Equal(perCycle, first.Length);
        var decision = h.Decisions[^1];
        Assert.Equal(32 - perCycle, decision.HeldByCaps);
        var pruned = decision.Outcomes.Where(o => o.Status == SampleStatus.Quarantined).ToList();
        var held = decision.Outcomes.Where(o => (o.Flags & CycleFlags.HeldByCap) != 0).ToList();
        Assert.Equal(32 - perCycle, held.Count);
        Assert.True(pruned.Min(o => o.Z) >= held.Max(o => o.Z), "a held-back sample was worse than a pruned one");
        Assert.All(held, o => Assert.Equal(SampleStatus.Flagged, o.Status)); // held back: watched, not re-fed
        Assert.All(held, o => Assert.Equal(1, o.State.Held));
        h.Run(cycle, cycle + 8);
        Assert.Equal(32, h.With(SampleStatus.Quarantined).Length);
    }

    [Fact]
    public void The_total_and_per_identity_caps_hold_however_many_samples_look_bad()
    {
        // 12 bad of 60 in identity 0 and 3 in the others: the identity cap (6) and the total cap (48) bind.
        var options = Defaults with { RefeedWeight = 1, WarmupSteps = 0 };
        var h = new PolicyHarness(8, 60, options, (i, _, _) => i < 60 ? (i % 60 < 12 ? 0.8 : 0) : (i % 60 < 3 ? 0.8 : 0)) { Noise = 0.1 };
        h.Run(0, 40);
        int identityCap = (int)Math.Ceiling(options.MaxPruneFraction * 60);
        for (int g = 0; g < 8; g++)
            Assert.True(h.With(SampleStatus.Quarantined).Count(i => i / 60 == g) <= identityCap, $"identity {g} over its cap");
        Assert.Equal(identityCap, h.With(SampleStatus.Quarantined).Count(i => i < 60));
        Assert.Equal(identityCap + 7 * 3, h.With(SampleStatus.Quarantined).Length);

        var tight = Defaults with { RefeedWeight = 1, WarmupSteps = 0, MaxPruneFraction = 0.05 };
        var h2 = new PolicyHarness(8, 60, tight, (i, _, _) => i % 60 < 5 ? 0.8 : 0) { Noise = 0.1 };
        h2.Run(0, 40);
        Assert.Equal((int)Math.Floor(0.05 * 480), h2.With(SampleStatus.Quarantined).Length);
    }

    [Fact]
    public void An_identity_never_drops_below_the_minimum_of_images_in_training()
    {
        // Identity 1 has only 4 samples in a 16-sample set; 3 of them look bad.
        var options = Defaults with { RefeedWeight = 1, WarmupSteps = 0, MaxPruneFraction = 1, MaxPruneFractionPerCycle = 1 };
        var h = new PolicyHarness(4, 12, options, (i, _, _) => i is 12 or 13 or 14 ? 0.9 : 0) { Noise = 0.1 };
        // Make identity 1 four samples big by moving samples 15..23 to identity 0 and 2.
        for (int i = 16; i < 24; i++) h.Identity[i] = i % 2 == 0 ? 0 : 2;
        h.Run(0, 20);
        int inTraining = Enumerable.Range(0, h.N).Count(i => h.Identity[i] == 1 && h.Status[i] != SampleStatus.Quarantined);
        Assert.Equal(options.MinImagesPerIdentity, inTraining);
        Assert.Contains(h.Decisions.SelectMany(d => d.Outcomes), o => h.Identity[o.Index] == 1 && (o.Flags & CycleFlags.HeldByCap) != 0);
    }

    [Fact]
    public void Review_mode_sends_would_be_prunes_to_review_and_off_mode_changes_nothing()
    {
        var review = new PolicyHarness(8, 60, Defaults with { Mode = CurationMode.Review }, (i, _, _) => IsBad(i) ? 0.7 : 0);
        review.Run(0, 60);
        Assert.Empty(review.With(SampleStatus.Quarantined));
        Assert.Equal(Enumerable.Range(0, 480).Where(IsBad), review.With(SampleStatus.AwaitingReview));
        Assert.All(review.Changes.Where(c => c.To == SampleStatus.AwaitingReview), c => Assert.StartsWith("would prune: ", c.Reason));

        var off = new PolicyHarness(8, 60, Defaults with { Mode = CurationMode.Off }, (i, _, _) => IsBad(i) ? 0.7 : 0);
        off.Run(0, 60);
        Assert.Empty(off.Changes);
        Assert.All(off.Decisions, d => Assert.False(d.Decided));
        // The ledger still records what it sees.
        Assert.Contains(off.Decisions[^1].Outcomes, o => IsBad(o.Index) && (o.Flags & CycleFlags.HighOutlier) != 0);
    }

    [Fact]
    public void Low_and_erratic_outliers_are_pruned_without_refeed()
    {
        const int blank = 5, erratic = 65;
        var h = new PolicyHarness(8, 60, Defaults, (i, _, _) => i == blank ? -0.9 : 0) { Spread = i => i == erratic ? 1.5 : 0.3 };
        h.Run(0, 40);
        Assert.Equal(SampleStatus.Quarantined, h.Status[blank]);
        Assert.Equal(SampleStatus.Quarantined, h.Status[erratic]);
        Assert.False(h.EverHad(blank, SampleStatus.Refed));
        Assert.False(h.EverHad(erratic, SampleStatus.Refed));
        Assert.Contains("low outlier", h.Changes.Last(c => c.Sample == blank).Reason);
        Assert.Contains("erratic", h.Changes.Last(c => c.Sample == erratic).Reason);
        Assert.Equal(2, h.With(SampleStatus.Quarantined).Length);
    }

    [Fact]
    public void A_face_only_a_little_easier_than_its_identity_is_not_a_low_outlier_however_narrow_the_spread()
    {
        // Late in a run the identity's spread narrows to the floor (MinSpread 0.05), so ×0.80 its median is z ≈ −4.5:
        // past LowOutlierZ, but nothing like a blank frame (×0.4).
        const int easier = 7, blank = 70;
        var h = new PolicyHarness(8, 60, Defaults, (i, _, _) => i switch { easier => Math.Log(0.80), blank => Math.Log(0.4), _ => 0 }) { Noise = 0.02 };
        h.Run(0, 40);
        Assert.Contains(h.Decisions.SelectMany(d => d.Outcomes.ToArray()), o => o.Index == easier && o.Z <= -Defaults.LowOutlierZ);
        Assert.DoesNotContain(h.Changes, c => c.Sample == easier);
        Assert.Equal(SampleStatus.Quarantined, h.Status[blank]);
        Assert.Contains("low outlier", h.Changes.Last(c => c.Sample == blank).Reason);
    }

    [Fact]
    public void Restored_samples_are_never_pruned_again()
    {
        var h = new PolicyHarness(8, 60, Defaults, (i, _, _) => IsBad(i) ? 0.7 : 0);
        var restored = Enumerable.Range(0, h.N).Where(IsBad).Take(5).ToArray();
        foreach (int i in restored) h.Status[i] = SampleStatus.Restored;
        h.Run(0, 60);
        Assert.All(restored, i => Assert.Equal(SampleStatus.Restored, h.Status[i]));
        Assert.All(restored, i => Assert.DoesNotContain(h.Changes, c => c.Sample == i));
        Assert.All(restored, i => Assert.True(h.State[i].HighBits != 0, "restored samples are still evaluated"));
        Assert.Equal(27, h.With(SampleStatus.Quarantined).Length);
    }

    [Fact]
    public void Invalid_options_are_refused_naming_the_option_and_value()
    {
        var e = Assert.Throws<FaceClusterException>(() => (Defaults with { PersistenceHits = 5, PersistenceWindow = 4 }).Validate());
        Assert.Contains("persistence hits 5", e.Message);
        Assert.Equal(ExitCodes.UsageError, e.ExitCode);
        e = Assert.Throws<FaceClusterException>(() => (Defaults with { MaxPruneFraction = 1.5 }).Validate());
        Assert.Contains("max prune fraction 1.5", e.Message);
    }
}
