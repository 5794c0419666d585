using FaceCluster.Common.Statistics;
using System.Buffers;
using System.Runtime.InteropServices;

namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// Decides, at the end of a cycle, which samples to flag, re-feed, prune or send to review: a pure function of a
/// <see cref="CurationSnapshot"/> and <see cref="CurationPolicyOptions"/> (no clock, no randomness, no I/O).
/// The statistic, the outliers, persistence, hard versus bad, the caps and the modes: docs/CURATION.md.
/// </summary>
public static class CurationPolicy
{
    /// <param name="buffer">Where to put the outcomes when it is large enough (a ledger closing cycles of a large face set reuses one); null allocates.</param>
    public static CurationDecision Decide(CurationSnapshot snapshot, CurationPolicyOptions options, CurationOutcome[]? buffer = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var samples = snapshot.Samples.Span;
        var outcomes = buffer != null && buffer.Length >= samples.Length ? buffer : new CurationOutcome[samples.Length];
        bool warm = snapshot.Step >= options.WarmupSteps;
        bool decide = warm && options.Mode != CurationMode.Off && snapshot.Cycle % options.PeriodCycles == 0;

        var reference = BuildReferences(snapshot, options, probe: false);
        var probeReference = BuildReferences(snapshot, options, probe: true);
        var trajectoryReference = options.DetectTrajectory ? TrajectoryReference.Build(snapshot, options, s => s.MeanLog) : null;
        var earlyReference = options.FaceCheck ? TrajectoryReference.Build(snapshot, options, s => s.EarlyLog) : null;
        var latentScores = options.DetectLatent ? LatentScores.Build(snapshot, options) : null;
        double minLatentLog = Math.Log(options.MinLatentRatio);
        double minNoFaceLog = Math.Log(options.MinNoFaceEarlyRatio);
        double minTrajectoryLog = Math.Log(options.MinTrajectoryRatio);
        var candidates = new List<(int Slot, double Severity, string Reason)>();
        // The ratio thresholds in log units, once per decision rather than per sample.
        double minLog = Math.Log(options.MinOutlierRatio), maxLowLog = Math.Log(options.MaxLowOutlierRatio);
        double minErraticLog = Math.Log(options.MinErraticRatio), minIdentityLog = Math.Log(options.MinIdentityOutlierRatio);
        for (int k = 0; k < samples.Length; k++)
        {
            var s = samples[k];
            var state = s.State;
            var flags = CycleFlags.None;
            if (s.Status == SampleStatus.Refed) flags |= CycleFlags.Refed;
            bool evaluable = Evaluable(s, options) && s.Status != SampleStatus.AwaitingReview;
            if (!evaluable)
            {
                outcomes[k] = new CurationOutcome(s.Index, flags, float.NaN, float.NaN, state, s.Status, null);
                continue;
            }
            var r = reference.For(s.Identity);
            if (r.Global) flags |= CycleFlags.GlobalReference;
            double excess = s.SmoothedLog - r.Median;
            double z = excess / r.Spread;
            double spreadExcess = LogSpread(s.SmoothedSpread) - r.SpreadMedian;
            double ez = spreadExcess / r.SpreadSpread;
            bool high = z >= options.OutlierZ && excess >= minLog;
            bool low = options.DetectLow && z <= -options.LowOutlierZ && excess <= maxLowLog;
            bool erratic = options.DetectErratic && ez >= options.ErraticZ && spreadExcess >= minErraticLog;
            // A probe that came this cycle is judged against the same probe's margins of its identity (same weights).
            double iz = double.NaN, identityExcess = double.NaN;
            uint probeBits = s.ProbeOutlierBits;
            bool foreign = false;
            // The encoder's latent of the same probe, judged against the latents of its identity (same weights).
            double latentZ = latentScores?.Z[k] ?? double.NaN, latentExcess = latentScores?.Excess[k] ?? double.NaN;
            bool latentOutlier = double.IsFinite(latentZ) && latentZ >= options.LatentZ && latentExcess >= minLatentLog;
            if (float.IsFinite(s.ProbeMargin))
            {
                var pr = probeReference.For(s.Identity);
                identityExcess = s.ProbeMargin - pr.Median;
                iz = identityExcess / pr.Spread;
                foreign = iz >= options.IdentityOutlierZ && identityExcess >= minIdentityLog;
                probeBits = ProbeBits.Push(probeBits, foreign || latentOutlier, latentOutlier);
            }
            else if (double.IsFinite(latentZ))
                probeBits = ProbeBits.Push(probeBits, latentOutlier, latentOutlier);
            double tz = double.NaN, trajectoryExcess = double.NaN;
            bool trajectory = false;
            if (trajectoryReference is not null && float.IsFinite(s.MeanLog))
            {
                trajectoryExcess = s.MeanLog - trajectoryReference.MedianFor(s.Identity);
                tz = trajectoryExcess / trajectoryReference.Spread;
                trajectory = tz >= options.TrajectoryZ && trajectoryExcess >= minTrajectoryLog;
            }
            double earlyZ = double.NaN, earlyExcess = double.NaN;
            bool faceless = false;
            if (earlyReference is not null && s.NoFace && float.IsFinite(s.EarlyLog))
            {
                earlyExcess = s.EarlyLog - earlyReference.MedianFor(s.Identity);
                earlyZ = earlyExcess / earlyReference.Spread;
                faceless = earlyZ >= options.NoFaceEarlyZ && earlyExcess >= minNoFaceLog;
            }
            bool texture = options.DetectTexture && float.IsFinite(s.TextureZ) && s.TextureZ >= options.TextureZ;
            if (foreign || latentOutlier) flags |= CycleFlags.IdentityOutlier;
            if (high) flags |= CycleFlags.HighOutlier;
            if (low) flags |= CycleFlags.LowOutlier;
            if (erratic) flags |= CycleFlags.Erratic;
            if (!warm)
            {
                // The warm-up records what it sees but neither counts it nor acts on it.
                outcomes[k] = new CurationOutcome(s.Index, flags, (float)z, (float)ez, state with { LastZ = (float)z, LastErraticZ = (float)ez, LastExcess = (float)excess }, s.Status, null)
                    { IdentityZ = (float)iz, ProbeOutlierBits = probeBits };
                continue;
            }
            flags |= CycleFlags.Evaluated;
            double cycleExcess = s.CycleMeanLog - r.Median;
            state = state with
            {
                RecentCycleExcess = float.IsFinite(state.RecentCycleExcess) ? (float)(0.5 * (state.RecentCycleExcess + cycleExcess)) : (float)cycleExcess,
                HighBits = (state.HighBits << 1) | (high ? 1u : 0u),
                OddBits = (state.OddBits << 1) | (low || erratic ? 1u : 0u),
                Evaluated = state.Evaluated + 1,
                LastZ = (float)z, LastErraticZ = (float)ez, LastExcess = (float)excess,
            };
            if (s.Status == SampleStatus.Refed)
                state = state with
                {
                    RefeedWindow = state.RefeedWindow + 1, RefeedCycles = state.RefeedCycles + 1,
                    RefeedWindowExcess = state.RefeedWindowExcess + (float)cycleExcess,
                };

            var status = s.Status;
            string? reason = null;
            if (decide)
                (status, state, reason) = Transition(s, state, options, snapshot.Cycle, new Signals(z, ez, iz, excess, identityExcess, r.Spread, high, low, erratic, foreign, probeBits)
                    {
                        Trajectory = trajectory, TrajectoryZ = tz, TrajectoryExcess = trajectoryExcess, Faceless = faceless, EarlyZ = earlyZ, EarlyExcess = earlyExcess,
                        Latent = latentOutlier, LatentZ = latentZ, LatentExcess = latentExcess,
                        Texture = texture, TextureZ = s.TextureZ, TextureRatio = s.TextureRatio,
                    }, candidates, k);
            outcomes[k] = new CurationOutcome(s.Index, flags, (float)z, (float)ez, state, status, reason) { IdentityZ = (float)iz, ProbeOutlierBits = probeBits };
        }

        int held = decide ? ApplyCaps(snapshot, options, outcomes, candidates) : 0;
        return new CurationDecision(snapshot.Cycle, decide, new ArraySegment<CurationOutcome>(outcomes, 0, samples.Length), held);
    }

    /// <summary>What the policy measured of one sample in this cycle.</summary>
    private readonly record struct Signals(double Z, double ErraticZ, double IdentityZ, double Excess, double IdentityExcess, double Spread,
        bool High, bool Low, bool Erratic, bool Foreign, uint ProbeBits)
    {
        public bool Trajectory { get; init; }
        public double TrajectoryZ { get; init; }
        public double TrajectoryExcess { get; init; }
        public bool Faceless { get; init; }
        public double EarlyZ { get; init; }
        public double EarlyExcess { get; init; }
        public bool Latent { get; init; }
        public double LatentZ { get; init; }
        public double LatentExcess { get; init; }
        public bool Texture { get; init; }
        public double TextureZ { get; init; }
        public double TextureRatio { get; init; }
    }

    private static (SampleStatus, SamplePolicyState, string?) Transition(
        in CurationSample s, SamplePolicyState state, CurationPolicyOptions o, long cycle, Signals g,
        List<(int Slot, double Severity, string Reason)> candidates, int slot)
    {
        var (z, ez, excess, spread, high, low, erratic) = (g.Z, g.ErraticZ, g.Excess, g.Spread, g.High, g.Low, g.Erratic);
        int window = o.PersistenceWindow;
        bool persistentHigh = state.HighInLast(window) >= o.PersistenceHits;
        bool persistentOdd = state.OddInLast(window) >= o.PersistenceHits;
        int identityHits = ProbeBits.Outliers(g.ProbeBits, o.IdentityPersistenceProbes);
        int latentHits = ProbeBits.LatentOutliers(g.ProbeBits, o.IdentityPersistenceProbes);
        bool persistentForeign = identityHits >= o.IdentityPersistenceHits;
        double severity = Math.Max(Math.Max(Math.Abs(z), erratic ? ez : 0), Math.Max(g.Foreign ? g.IdentityZ : 0, g.Latent ? g.LatentZ : 0));
        if (g.Texture && s.Status != SampleStatus.Restored)
        {
            // Not re-fed: its image, not the model, makes it an outlier.
            candidates.Add((slot, Math.Max(severity, g.TextureZ),
                F($"texture outlier: with the light normalised, its local texture (LBP histograms on a grid) is ×{g.TextureRatio:0.00} its identity's median distance from the identity's other faces (z {g.TextureZ:0.0}), as for a misaligned, occluded, blank or faceless image or another person's face")));
            return (s.Status, state with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0 }, null);
        }
        if (persistentForeign && s.Status != SampleStatus.Restored)
        {
            // Never re-fed: oversampling cannot make a face another person's, nor a bad crop a good one.
            if (latentHits == identityHits)
            {
                // Every one of its outlier probes was the latent's.
                string thisProbe = g.Latent ? F($" (this probe: ×{Math.Exp(g.LatentExcess):0.00} its identity's median distance from their centre, z {g.LatentZ:0.0})") : "";
                candidates.Add((slot, Math.Max(severity, o.LatentZ),
                    F($"latent outlier in {latentHits} of its last {o.IdentityPersistenceProbes} probes: the shared encoder places it far from its identity's faces{thisProbe}, as for a misaligned, occluded or blank image, no face or another person")));
                return (s.Status, state with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0 }, null);
            }
            string now = g.Foreign ? F($" (this probe: margin ×{Math.Exp(g.IdentityExcess):0.00} its identity's median, z {g.IdentityZ:0.0})") : "";
            string latent = g.Latent ? F($"; and far from its identity's faces in the encoder's latent space (×{Math.Exp(g.LatentExcess):0.00}, z {g.LatentZ:0.0})") : "";
            candidates.Add((slot, Math.Max(severity, o.IdentityOutlierZ),
                F($"identity outlier in {identityHits} of its last {o.IdentityPersistenceProbes} probes: its own decoder reconstructs it hardly better than another identity's{now}{latent}, as for a face of another person, a bad crop, an occlusion or no face")));
            return (s.Status, state with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0 }, null);
        }
        // The trajectory judges what the moving average cannot: a face whose whole history stands far above its identity's
        // once re-feeding has had its chance (re-feeding makes a memorised face look learned), or that the moving average
        // no longer sees as an outlier at all. A persistent high outlier not yet re-fed goes the re-feed way first.
        bool trajectoryDue = state.RefeedCycles > 0 || (!high && state.HighInLast(window) == 0);
        if (g.Trajectory && trajectoryDue && state.Evaluated >= 2 && s.Status is SampleStatus.Active or SampleStatus.Flagged && !persistentOdd)
        {
            // Not re-fed: oversampling memorises it, which hides it from the moving average but not from its trajectory.
            candidates.Add((slot, Math.Max(severity, g.TrajectoryZ),
                F($"trajectory outlier: its mean loss over its {s.Observations} observations since it was first seen is ×{Math.Exp(g.TrajectoryExcess):0.00} its identity's median (z {g.TrajectoryZ:0.0}): the model found it hard before it could memorise it, as for a misaligned, occluded or mislabelled face")));
            return (s.Status, state with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0 }, null);
        }
        if (g.Faceless && s.Status != SampleStatus.Restored && !persistentOdd)
        {
            candidates.Add((slot, Math.Max(severity, g.EarlyZ),
                F($"no face where its set's faces are (OpenCV's Haar cascades), and it trained badly from the start: its first observations averaged ×{Math.Exp(g.EarlyExcess):0.00} its identity's median (z {g.EarlyZ:0.0}), as a misaligned, occluded or absent face does")));
            return (s.Status, state with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0 }, null);
        }
        switch (s.Status)
        {
            case SampleStatus.Restored:
                return (s.Status, state, null);

            case SampleStatus.Refed:
            {
                if (persistentOdd)
                {
                    candidates.Add((slot, severity, $"{OddWhat(g)} while re-fed"));
                    return (s.Status, state, null);
                }
                if (state.RefeedWindow < o.RefeedCycles) return (s.Status, state, null);
                // Judge the window by what the sample did in its cycles (the smoothed statistic lags behind).
                double baseline = state.RefeedBaseline;
                double windowExcess = state.RefeedWindowExcess / state.RefeedWindow;
                double windowZ = windowExcess / spread;
                float trend = baseline > 1e-6 ? (float)(windowExcess / baseline) : float.NaN;
                state = state with { RefeedTrend = trend, RefeedWindow = 0, RefeedWindowExcess = 0 };
                string change = F($"×{Math.Exp(baseline):0.00} → ×{Math.Exp(windowExcess):0.00} its identity's median over {o.RefeedCycles} re-fed cycles, z {windowZ:0.0}");
                if (windowZ < o.ClearZ)
                {
                    // A relapse must show afresh: the outlier history starts over.
                    state = state with { RefeedSince = -1, RefeedWeight = 1f, LearnedAtCycle = cycle, HighBits = 0, OddBits = 0 };
                    return (SampleStatus.Active, state, $"learned while re-fed: normal again ({change})");
                }
                if (windowExcess <= (1 - o.LearnFraction) * baseline && state.RefeedCycles < o.MaxRefeedCycles)
                {
                    // Hard but learnable: keep re-feeding from where it is now.
                    state = state with { RefeedBaseline = (float)windowExcess };
                    return (s.Status, state, null);
                }
                if (windowZ >= o.OutlierZ && windowExcess < Math.Log(o.MinPruneRatio))
                {
                    // Bad by persistence, but too mild for its loss alone to prune it: a good face's tail reaches this far.
                    state = state with { RefeedSince = -1, RefeedWeight = 1f, LearnedAtCycle = cycle };
                    return (SampleStatus.Flagged, state,
                        F($"stayed a mild outlier while re-fed ({change}): below the prune ratio ×{o.MinPruneRatio:0.0#}, kept in training and watched"));
                }
                if (windowZ >= o.OutlierZ)
                {
                    string why = windowExcess <= (1 - o.LearnFraction) * baseline
                        ? F($"still an outlier after {state.RefeedCycles} re-fed cycles, the most allowed")
                        : F($"stayed an outlier while re-fed ×{state.RefeedWeight:0.#}");
                    candidates.Add((slot, severity, $"{why} ({change})"));
                    return (s.Status, state, null);
                }
                // No longer an outlier, no longer falling fast: stop re-feeding; a relapse into a persistent outlier is pruned.
                state = state with { RefeedSince = -1, RefeedWeight = 1f, LearnedAtCycle = cycle, HighBits = 0, OddBits = 0 };
                return (SampleStatus.Active, state, $"no longer an outlier while re-fed: re-feed stopped ({change})");
            }

            default: // Active, Flagged
            {
                if (persistentOdd)
                {
                    candidates.Add((slot, severity, F($"{OddWhat(g)} in {state.OddInLast(window)} of its last {window} evaluations")));
                    return (s.Status, state, null);
                }
                if (persistentHigh)
                {
                    string what = F($"high outlier in {state.HighInLast(window)} of its last {window} evaluations (×{Math.Exp(excess):0.00} its identity's median, z {z:0.0})");
                    if (state.Held != 0)
                    {
                        candidates.Add((slot, severity, what + ", prune held back earlier by a cap"));
                        return (s.Status, state, null);
                    }
                    bool mild = excess < Math.Log(o.MinPruneRatio);
                    if (mild && (state.LearnedAtCycle >= 0 && cycle - state.LearnedAtCycle <= o.RelapseCycles || o.RefeedWeight <= 1))
                    {
                        // Its loss alone would prune it, but it is within the tail of good faces: watched, not pruned.
                        return s.Status == SampleStatus.Flagged
                            ? (s.Status, state, null)
                            : (SampleStatus.Flagged, state, F($"{what}: below the prune ratio ×{o.MinPruneRatio:0.0#}, kept in training and watched"));
                    }
                    if (state.LearnedAtCycle >= 0 && cycle - state.LearnedAtCycle <= o.RelapseCycles)
                    {
                        candidates.Add((slot, severity, F($"{what}, {cycle - state.LearnedAtCycle} cycles after re-feeding made it normal: memorised, not learned")));
                        return (s.Status, state, null);
                    }
                    if (o.RefeedWeight > 1)
                    {
                        state = state with
                        {
                            RefeedSince = cycle, RefeedWeight = (float)o.RefeedWeight, RefeedBaseline = (float)Math.Max(state.RecentCycleExcess, 1e-3),
                            RefeedWindow = 0, RefeedWindowExcess = 0, RefeedTrend = float.NaN,
                        };
                        return (SampleStatus.Refed, state, F($"{what}: re-fed ×{o.RefeedWeight:0.#} to see whether it can be learned"));
                    }
                    candidates.Add((slot, severity, what));
                    return (s.Status, state, null);
                }
                if (high || low || erratic || g.Foreign || g.Latent)
                {
                    if (s.Status == SampleStatus.Flagged) return (s.Status, state, null);
                    string kind = high ? F($"high outlier (×{Math.Exp(excess):0.00} its identity's median, z {z:0.0})") : OddWhat(g);
                    return (SampleStatus.Flagged, state, kind + " this cycle: watched");
                }
                if (s.Status == SampleStatus.Flagged && state.OutliersInLast(window) == 0 && ProbeBits.Outliers(g.ProbeBits, 1) == 0)
                    return (SampleStatus.Active, state with { Held = 0 }, F($"no outlier in its last {window} evaluations"));
                return (s.Status, state, null);
            }
        }
    }

    // Low and erratic first: a persistent low or erratic outlier is pruned for that, even when this cycle's probe also made it an identity outlier.
    private static string OddWhat(in Signals g) =>
        g.Low ? F($"low outlier: far easier than its identity's faces, as a blank or flat image is (z {g.Z:0.0})")
        : g.Erratic ? F($"erratic: its loss swings far more than its identity's faces' (spread z {g.ErraticZ:0.0})")
        : g.Foreign ? F($"identity outlier: its own decoder reconstructs it hardly better than another identity's (margin ×{Math.Exp(g.IdentityExcess):0.00} its identity's median, z {g.IdentityZ:0.0})")
        : g.Latent ? F($"latent outlier: the shared encoder places it far from its identity's faces (×{Math.Exp(g.LatentExcess):0.00} its identity's median distance from their centre, z {g.LatentZ:0.0})")
        : "low or erratic outlier";

    private static int ApplyCaps(CurationSnapshot snapshot, CurationPolicyOptions o, CurationOutcome[] outcomes, List<(int Slot, double Severity, string Reason)> candidates)
    {
        if (candidates.Count == 0) return 0;
        int total = snapshot.TotalSamples;
        int perCycle = o.MaxPruneFractionPerCycle > 0 ? Math.Max(1, (int)Math.Floor(o.MaxPruneFractionPerCycle * total + 1e-9)) : 0;
        int totalCap = (int)Math.Floor(o.MaxPruneFraction * total + 1e-9);
        int removed = snapshot.TotalQuarantined + snapshot.TotalAwaitingReview;
        var grantedPerIdentity = new Dictionary<int, int>();
        int granted = 0, held = 0;
        var target = o.Mode == CurationMode.Review ? SampleStatus.AwaitingReview : SampleStatus.Quarantined;
        foreach (var (slot, _, reason) in candidates.OrderByDescending(c => c.Severity).ThenBy(c => outcomes[c.Slot].Index))
        {
            var outcome = outcomes[slot];
            int identity = snapshot.Samples.Span[slot].Identity;
            var counts = identity >= 0 && identity < snapshot.Identities.Length ? snapshot.Identities[identity] : new IdentityCounts(total, total, 0, 0);
            grantedPerIdentity.TryGetValue(identity, out int identityGranted);
            int identityCap = (int)Math.Ceiling(o.MaxPruneFraction * counts.Samples - 1e-9);
            string? blocked =
                granted >= perCycle ? F($"the per-cycle cap ({perCycle} of {total} samples)")
                : removed + granted >= totalCap ? F($"the total cap ({totalCap} of {total} samples)")
                : counts.Quarantined + counts.AwaitingReview + identityGranted >= identityCap ? F($"its identity's cap ({identityCap} of {counts.Samples} samples)")
                : counts.InTraining - identityGranted - 1 < o.MinImagesPerIdentity ? F($"the minimum of {o.MinImagesPerIdentity} samples per identity in training")
                : null;
            if (blocked == null)
            {
                granted++;
                grantedPerIdentity[identity] = identityGranted + 1;
                var state = outcome.State with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0, Held = 0 };
                string why = target == SampleStatus.AwaitingReview ? "would prune: " + reason : reason;
                outcomes[slot] = outcome with { State = state, Status = target, Reason = why };
            }
            else
            {
                held++;
                // Never keep training a suspected-bad face harder while it waits for room under the caps.
                var state = outcome.State with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0, Held = 1 };
                bool changed = outcome.Status != SampleStatus.Flagged;
                outcomes[slot] = outcome with
                {
                    State = state, Status = SampleStatus.Flagged, Flags = outcome.Flags | CycleFlags.HeldByCap,
                    Reason = changed || outcome.State.Held == 0 ? $"{reason}; prune held back by {blocked}" : null,
                };
            }
        }
        return held;
    }

    private static double LogSpread(float spread) => Math.Log(Math.Max(spread, 1e-6f));

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private readonly record struct Reference(double Median, double Spread, double SpreadMedian, double SpreadSpread, bool Global);

    private sealed class ReferenceSet
    {
        private readonly Reference[] _byIdentity;
        private readonly Reference _global;

        public ReferenceSet(Reference[] byIdentity, Reference global) { _byIdentity = byIdentity; _global = global; }

        public Reference For(int identity) => identity >= 0 && identity < _byIdentity.Length ? _byIdentity[identity] : _global;
    }

    /// <summary>
    /// Per identity (and over all), the median and robust spread of the evaluable samples' smoothed log relative loss and
    /// of the log of its spread; or, with <paramref name="probe"/>, of the identity margins of the samples probed at the
    /// end of this cycle (both statistics the margin).
    /// </summary>
    private static ReferenceSet BuildReferences(CurationSnapshot snapshot, CurationPolicyOptions o, bool probe)
    {
        bool Include(in CurationSample s) => Evaluable(s, o) && (!probe || float.IsFinite(s.ProbeMargin));
        // Counting sort of the included samples by identity, then medians by selection: linear in the samples.
        var samples = snapshot.Samples.Span;
        int identities = snapshot.Identities.Length;
        var count = new int[identities + 1];
        int total = 0;
        foreach (ref readonly var s in samples)
        {
            if (!Include(s)) continue;
            count[(uint)s.Identity < (uint)identities ? s.Identity : identities]++;
            total++;
        }
        var start = new int[identities + 2];
        for (int g = 0; g <= identities; g++) start[g + 1] = start[g] + count[g];
        var fill = (int[])start.Clone();
        var x = ArrayPool<double>.Shared.Rent(Math.Max(1, total));
        var spread = ArrayPool<double>.Shared.Rent(Math.Max(1, total));
        foreach (ref readonly var s in samples)
        {
            if (!Include(s)) continue;
            int at = fill[(uint)s.Identity < (uint)identities ? s.Identity : identities]++;
            x[at] = probe ? s.ProbeMargin : s.SmoothedLog;
            spread[at] = probe ? s.ProbeMargin : LogSpread(s.SmoothedSpread);
        }
        var scratch = ArrayPool<double>.Shared.Rent(Math.Max(1, total));
        try
        {
            var global = Robust(x.AsSpan(0, total), spread.AsSpan(0, total), scratch, o.MinSpread, true);
            var byIdentity = new Reference[identities];
            for (int g = 0; g < identities; g++)
                byIdentity[g] = count[g] >= o.MinReferenceSamples
                    ? Robust(x.AsSpan(start[g], count[g]), spread.AsSpan(start[g], count[g]), scratch, o.MinSpread, false)
                    : global;
            return new ReferenceSet(byIdentity, global);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(x);
            ArrayPool<double>.Shared.Return(spread);
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// The reference of a per-face statistic (the whole-history <see cref="CurationSample.MeanLog"/> or the early
    /// <see cref="CurationSample.EarlyLog"/>): per identity the median of its
    /// evaluable faces (the median of all for an identity with fewer than the minimum), and one robust spread pooled over
    /// every face's distance from its identity's median, so that an identity of 8 faces is judged on the same scale as
    /// one of 80.
    /// </summary>
    private sealed class TrajectoryReference
    {
        private readonly double[] _median;
        private readonly double _global;

        private TrajectoryReference(double[] median, double global, double spread) { _median = median; _global = global; Spread = spread; }

        public double Spread { get; }

        public double MedianFor(int identity) => identity >= 0 && identity < _median.Length ? _median[identity] : _global;

        public static TrajectoryReference Build(CurationSnapshot snapshot, CurationPolicyOptions o, Func<CurationSample, float> statistic)
        {
            var samples = snapshot.Samples.Span;
            int identities = snapshot.Identities.Length;
            var byIdentity = new List<double>[identities];
            var all = new List<double>(samples.Length);
            foreach (ref readonly var s in samples)
            {
                float x = statistic(s);
                if (!Evaluable(s, o) || !float.IsFinite(x)) continue;
                all.Add(x);
                if ((uint)s.Identity < (uint)identities) (byIdentity[s.Identity] ??= new List<double>()).Add(x);
            }
            double global = all.Count > 0 ? Median(CollectionsMarshal.AsSpan(all)) : 0;
            var median = new double[identities];
            for (int g = 0; g < identities; g++)
                median[g] = byIdentity[g] is { } list && list.Count >= o.MinTrajectoryReference ? Median(CollectionsMarshal.AsSpan(list)) : global;
            var distance = new List<double>(all.Count);
            foreach (ref readonly var s in samples)
                if (Evaluable(s, o) && float.IsFinite(statistic(s)))
                    distance.Add(statistic(s) - ((uint)s.Identity < (uint)identities ? median[s.Identity] : global));
            var d = CollectionsMarshal.AsSpan(distance);
            double centre = d.Length > 0 ? Median(d.ToArray()) : 0;
            for (int i = 0; i < d.Length; i++) d[i] = Math.Abs(d[i] - centre);
            double spread = d.Length > 0 ? Math.Max(1.4826 * Median(d), o.MinSpread) : o.MinSpread;
            return new TrajectoryReference(median, global, spread);
        }
    }

    internal static bool Evaluable(in CurationSample s, CurationPolicyOptions o) =>
        s.Observations >= o.MinObservations && float.IsFinite(s.SmoothedLog) && s.Status != SampleStatus.Quarantined;

    /// <summary>Median and spread of both statistics; reorders its inputs' copies only (scratch).</summary>
    private static Reference Robust(ReadOnlySpan<double> x, ReadOnlySpan<double> s, double[] scratch, double minSpread, bool global)
    {
        if (x.Length == 0) return new Reference(0, minSpread, 0, minSpread, global);
        var (mx, dx) = MedianAndMad(x, scratch);
        var (ms, ds) = MedianAndMad(s, scratch);
        return new Reference(mx, Math.Max(1.4826 * dx, minSpread), ms, Math.Max(1.4826 * ds, minSpread), global);
    }

    private static (double Median, double Mad) MedianAndMad(ReadOnlySpan<double> values, double[] scratch)
    {
        var a = scratch.AsSpan(0, values.Length);
        values.CopyTo(a);
        double median = Median(a);
        for (int i = 0; i < a.Length; i++) a[i] = Math.Abs(values[i] - median);
        return (median, Median(a));
    }

    internal static double Median(Span<double> a) => Medians.Of(a);
}
