using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.State;
using FaceCluster.Coordinator.Ledger.Store;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>Answers the ledger's queries from its memory (and, for a sample's history, from ledger.db).</summary>
internal static class LedgerQueries
{
    /// <summary>Shrinkage of the badness: a sample seen n times counts n / (n + this) of its distance.</summary>
    private const double BadnessPrior = 3;

    public static double Badness(in SampleCounters c)
    {
        if (c.RelObservations == 0) return 0;
        double n = c.RelObservations;
        return Math.Abs(c.SmoothedLog) * n / (n + BadnessPrior);
    }

    public static SampleSummary Summary(LedgerState s, int d, CurationPolicyOptions policy)
    {
        ref readonly var c = ref s.Counters[d];
        var p = s.Policy[d];
        ref readonly var probe = ref s.Probes[d];
        bool rel = c.RelObservations > 0;
        int identity = c.Identity;
        return new SampleSummary(
            s.Ids[d], identity >= 0 && identity < s.Identities.Count ? s.Identities[identity] : "", s.Paths[d],
            s.Status[d].ToName(), s.StatusCycle[d], s.Reasons[d] ?? "",
            Badness(c), c.Observations,
            c.Observations > 0 ? c.LastLoss : double.NaN, c.Observations > 0 ? c.EmaLoss : double.NaN,
            rel ? Math.Exp(c.SmoothedLog) : double.NaN, rel ? c.SmoothedSpread : double.NaN,
            rel ? 1 + c.Auc / c.RelObservations : double.NaN, c.Auc,
            p.LastZ, p.LastErraticZ, p.OutliersInLast(policy.PersistenceWindow), p.Evaluated, p.RefeedWeight, p.RefeedTrend, c.LastStep,
            probe.Probes, probe.Probes > 0 ? Math.Exp(probe.SmoothedMargin) : double.NaN, probe.LastZ);
    }

    public static WorstSamples Worst(LedgerState s, GetWorstSamples q, CurationPolicyOptions policy)
    {
        int want = Math.Clamp(q.Count, 0, s.Count);
        var heap = new PriorityQueue<int, double>(want + 1);
        int ranked = 0;
        var counters = s.Counters;
        var status = s.Status;
        double floor = double.NegativeInfinity;
        for (int d = 0; d < s.Count; d++)
        {
            if (counters[d].RelObservations == 0) continue;
            if (!q.IncludeQuarantined && status[d] == SampleStatus.Quarantined) continue;
            ranked++;
            if (want == 0) continue;
            double b = Badness(counters[d]);
            if (heap.Count < want)
            {
                heap.Enqueue(d, b);
                if (heap.Count == want) heap.TryPeek(out _, out floor);
            }
            else if (b > floor)
            {
                heap.DequeueEnqueue(d, b);
                heap.TryPeek(out _, out floor);
            }
        }
        var picked = new List<(int D, double B)>(heap.Count);
        while (heap.TryDequeue(out int d, out double b)) picked.Add((d, b));
        picked.Sort((x, y) => y.B != x.B ? y.B.CompareTo(x.B) : s.Ids[x.D].CompareTo(s.Ids[y.D]));
        return new WorstSamples(s.LastCycle, ranked, picked.Select(x => Summary(s, x.D, policy)).ToArray());
    }

    public static SampleHistory History(LedgerState s, LedgerReader store, IReadOnlyList<QuarantineRecord> quarantines, int d, CurationPolicyOptions policy)
    {
        var cycles = store.ReadSampleCycles(d).Select(x => new SampleCycleEntry(
            x.Cycle, x.Row.Observations, x.Row.MeanRelative, x.Row.MeanLoss, x.Row.Z,
            (x.Row.Flags & CycleFlags.HighOutlier) != 0, (x.Row.Flags & CycleFlags.LowOutlier) != 0 || (x.Row.Flags & CycleFlags.Erratic) != 0,
            (x.Row.Flags & CycleFlags.Refed) != 0, (x.Row.Flags & CycleFlags.Evaluated) != 0,
            x.Row.Status <= (byte)SampleStatus.Restored ? ((SampleStatus)x.Row.Status).ToName() : "",
            (x.Row.Flags & CycleFlags.IdentityOutlier) != 0)).ToArray();
        var changes = store.ReadEvents(d).Select(e => new SampleStatusChange(e.Cycle, e.Step, e.From.ToName(), e.To.ToName(), e.Reason, LedgerFormat.Iso(e.At))).ToArray();
        var q = quarantines.Where(r => r.Dense == d).Select(Entry).ToArray();
        return new SampleHistory(Summary(s, d, policy), cycles, changes, q);
    }

    public static LedgerIdentities Identities(LedgerState s)
    {
        int n = s.Identities.Count;
        var counts = new int[n, 6];
        var samples = new int[n];
        var observations = new long[n];
        var lossSum = new double[n];
        var relSum = new double[n];
        var seen = new int[n];
        for (int d = 0; d < s.Count; d++)
        {
            if (!s.Registered[d]) continue;
            ref readonly var c = ref s.Counters[d];
            int g = c.Identity;
            if ((uint)g >= (uint)n) continue;
            samples[g]++;
            counts[g, (int)s.Status[d]]++;
            observations[g] += c.Observations;
            if (c.RelObservations > 0 && s.Status[d] != SampleStatus.Quarantined)
            {
                lossSum[g] += c.EmaLoss;
                relSum[g] += Math.Exp(c.SmoothedLog);
                seen[g]++;
            }
        }
        var rows = new List<LedgerIdentity>();
        for (int g = 0; g < n; g++)
        {
            if (samples[g] == 0 && s.Identities[g] == LedgerState.UnregisteredIdentity) continue;
            rows.Add(new LedgerIdentity(s.Identities[g], samples[g],
                counts[g, (int)SampleStatus.Active] + counts[g, (int)SampleStatus.Restored], counts[g, (int)SampleStatus.Refed],
                counts[g, (int)SampleStatus.Flagged], counts[g, (int)SampleStatus.AwaitingReview], counts[g, (int)SampleStatus.Quarantined],
                counts[g, (int)SampleStatus.Restored], observations[g],
                seen[g] > 0 ? lossSum[g] / seen[g] : double.NaN, seen[g] > 0 ? relSum[g] / seen[g] : double.NaN));
        }
        return new LedgerIdentities(rows.ToArray());
    }

    public static QuarantineList Quarantine(IReadOnlyList<QuarantineRecord> records, bool includeRestored) =>
        new(records.Where(r => includeRestored || !r.IsRestored).Select(Entry).ToArray());

    public static ReviewQueue Review(LedgerState s, CurationPolicyOptions policy) =>
        new(s.InStatus(SampleStatus.AwaitingReview)
            .OrderByDescending(d => Badness(s.Counters[d])).ThenBy(d => s.Ids[d])
            .Select(d => Summary(s, d, policy)).ToArray());

    public static LossCurves Curves(LedgerState s, int maxPoints)
    {
        int points = Math.Clamp(maxPoints, 2, 100_000);
        return new LossCurves(s.GlobalCurve.ToCurve(points),
            s.IdentityCurves.Where(c => c.Points > 0).Select(c => c.ToCurve(points)).ToArray(),
            s.WorkerCurves.Select(c => c.ToCurve(points)).ToArray(),
            s.ValidationCurves.Select(c => c.ToCurve(points)).ToArray());
    }

    public static QuarantineEntry Entry(QuarantineRecord r) => new(
        r.SampleId, r.Identity, r.Path, r.Cycle, r.Step, LedgerFormat.ActionName(r.Action), r.CurrentPath, r.Sha256, r.Reason,
        LedgerFormat.Iso(r.At), r.IsRestored, r.RestoredCycle, r.RestoredAt is { } t ? LedgerFormat.Iso(t) : "");
}
