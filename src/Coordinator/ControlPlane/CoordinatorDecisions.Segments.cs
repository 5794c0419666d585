using System.Collections.Immutable;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>How a segment ended, once every member reported.</summary>
public enum SegmentEnd
{
    /// <summary>Members have not all reported yet.</summary>
    Open,
    /// <summary>The cycle's last segment ended cleanly: close the cycle.</summary>
    CloseCycle,
    /// <summary>It ended early (a failure, a join, a leave, a stop or a re-split): plan the next one.</summary>
    Replan,
}

/// <summary>A step's progress for the operator's display (the first member's steps only).</summary>
public sealed record StepProgress(long Step, long TotalSteps, double MeanLoss, double SamplesPerSecond, double StepMilliseconds);

public static partial class CoordinatorDecisions
{
    /// <summary>A worker finished a step: its last step, the run's smoothed loss and, from the first member, the throughput.</summary>
    public static (CoordinatorState State, StepProgress? Progress) StepDone(CoordinatorState s, CoordinatorSettings settings, StepCompleted step)
    {
        if (s.Workers.TryGetValue(step.WorkerId, out var entry) && step.Step > entry.LastStep) s = s.WithWorker(entry with { LastStep = step.Step });
        double loss = 0; int n = 0;
        foreach (float l in step.Losses) if (float.IsFinite(l)) { loss += l; n++; }
        if (n > 0) s = s with { MeanLoss = double.IsNaN(s.MeanLoss) ? loss / n : s.MeanLoss * 0.95 + loss / n * 0.05 };
        if (step.ComputeMs <= 0 || s.Segment == null || step.WorkerId != s.Segment.Members.FirstOrDefault()) return (s, null);
        double stepMs = step.ComputeMs + step.DataWaitMs + step.AllReduceMs;
        double sps = stepMs > 0 ? settings.GlobalBatch / (stepMs / 1000.0) : 0;
        s = s with { SamplesPerSecond = s.SamplesPerSecond == 0 ? sps : s.SamplesPerSecond * 0.9 + sps * 0.1 };
        return (s, new StepProgress(step.Step + 1, settings.TotalSteps, s.MeanLoss, s.SamplesPerSecond, stepMs));
    }

    /// <summary>
    /// Measures each member's compute per step early in a segment; when the split by calibrated speed leaves the
    /// slowest member at least <see cref="CoordinatorSettings.RebalanceMinGain"/> slower than a split by the measured
    /// speeds would, the members are to stop at the next step boundary and the rest of the cycle is planned with the
    /// measured costs (LB-BSP's correction, within the cycle instead of at its end). Returns why, or null.
    /// </summary>
    public static (CoordinatorState State, string? Rebalance) CheckBalance(CoordinatorState s, CoordinatorSettings settings, StepCompleted step)
    {
        var segment = s.Segment;
        if (segment == null || step.Generation != segment.Generation || segment.BalanceChecked || segment.StopRequested
            || settings.EqualBatches || settings.RebalanceSampleSteps <= 0 || segment.Members.Length < 2 || s.Phase != CoordinatorPhase.Running
            || step.Step < segment.FromStep + settings.RebalanceSkipSteps || step.ComputeMs <= 0)
            return (s, null);
        var costs = segment.ComputeCosts.TryGetValue(step.WorkerId, out var c) ? c : (Ms: 0.0, Steps: 0);
        segment = segment with { ComputeCosts = segment.ComputeCosts.SetItem(step.WorkerId, (costs.Ms + step.ComputeMs, costs.Steps + 1)) };
        s = s with { Segment = segment };
        if (!segment.Members.All(id => segment.ComputeCosts.TryGetValue(id, out var m) && m.Steps >= settings.RebalanceSampleSteps)) return (s, null);
        s = s with { Segment = segment with { BalanceChecked = true } };
        if (segment.ToStep - step.Step <= 2L * settings.RebalanceSampleSteps) return (s, null); // too little of the segment left to gain
        var members = segment.Members.Select(id => s.Workers.TryGetValue(id, out var w) ? w : null).ToList();
        if (members.Any(m => m == null || m.Batch <= 0)) return (s, null);
        var perStep = segment.Members.Select(id => segment.ComputeCosts[id].Ms / segment.ComputeCosts[id].Steps).ToArray();
        var msPerSample = members.Select((m, i) => perStep[i] / m!.Batch).ToArray();
        int[] proposed;
        try
        {
            proposed = BatchBalancer.Balance(settings.GlobalBatch, members.Select((m, i) => new BatchBalancer.Capacity(m!.Id, 1000 / msPerSample[i],
                MaxBatchOf(settings, m))).ToList());
        }
        catch (FaceClusterException) { return (s, null); }
        double now = perStep.Max();
        double predicted = proposed.Select((b, i) => b * msPerSample[i]).Max();
        if (now < predicted * (1 + settings.RebalanceMinGain)) return (s, null);
        for (int i = 0; i < members.Count; i++) s = s.WithWorker(members[i]! with { MsPerSample = msPerSample[i], FixedMs = 0 });
        return (s, string.Create(CultureInfo.InvariantCulture,
            $"rebalancing: compute per step [{string.Join(", ", perStep.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))}] ms at batches [{string.Join(", ", members.Select(m => m!.Batch))}], about {predicted:F0} ms at [{string.Join(", ", proposed)}]"));
    }

    /// <summary>The step after which the segment's members stop, two steps past the newest step any of them reached; null when the segment ends at the next boundary anyway (or a stop was asked already).</summary>
    public static (CoordinatorState State, long? StopAt) Boundary(CoordinatorState s)
    {
        var segment = s.Segment;
        if (segment == null || segment.StopRequested) return (s, null);
        long last = segment.Members.Select(id => s.Workers.TryGetValue(id, out var w) ? w.LastStep : segment.FromStep).DefaultIfEmpty(segment.FromStep).Max();
        long stopAt = Math.Max(last + 2, segment.FromStep);
        if (stopAt >= segment.ToStep - 1) return (s, null);
        return (s with { Segment = segment with { StopRequested = true } }, stopAt);
    }

    /// <summary>A worker's replica is at <paramref name="step"/> (with its checksum and speed when known); a member that reported is no longer active.</summary>
    public static CoordinatorState ReplicaAt(CoordinatorState s, string workerId, long step, string? checksum, double? samplesPerSecond)
    {
        if (!s.Workers.TryGetValue(workerId, out var entry)) return s;
        entry = entry with
        {
            ReplicaStep = step,
            Checksum = checksum ?? entry.Checksum,
            SamplesPerSecond = samplesPerSecond is double v && v > 0 ? v : entry.SamplesPerSecond,
        };
        if (entry.Life == WorkerLife.Active) entry = entry with { Life = WorkerLife.Ready };
        return s.WithWorker(entry);
    }

    /// <summary>A member finished its segment: the step-cost model for the next plan (a late report of an older segment is not used), then its report.</summary>
    public static CoordinatorState SegmentFinishedBy(CoordinatorState s, SegmentFinished f)
    {
        var segment = s.Segment!;
        if (s.Workers.TryGetValue(f.WorkerId, out var measured) && measured.Batch > 0 && f.MeanUpdateMs >= 0 && f.MeanComputeMs > f.MeanUpdateMs)
            s = s.WithWorker(measured with { FixedMs = f.MeanUpdateMs, MsPerSample = (f.MeanComputeMs - f.MeanUpdateMs) / measured.Batch });
        return s with { Segment = segment with { Finished = segment.Finished.SetItem(f.WorkerId, f) } };
    }

    /// <summary>A worker is gone for good: marked lost, and counted as reported by the segment it was a member of.</summary>
    public static CoordinatorState Lost(CoordinatorState s, string workerId)
    {
        if (s.Workers.TryGetValue(workerId, out var w) && w.Life != WorkerLife.Lost) s = s.WithWorker(w with { Life = WorkerLife.Lost });
        if (s.Segment is { } segment && segment.Members.Contains(workerId) && !segment.Reported(workerId))
            s = s with { Segment = segment with { Lost = segment.Lost.Add(workerId) } };
        return s;
    }

    /// <summary>
    /// Once every member reported, the segment is over: the run is at the newest step a surviving replica reached, and
    /// a clean end of a cycle's last segment closes the cycle; anything else is planned again.
    /// </summary>
    public static (CoordinatorState State, SegmentEnd End, SegmentState? Segment) SegmentOver(CoordinatorState s, CoordinatorSettings settings)
    {
        var segment = s.Segment;
        if (segment == null || !segment.AllReported) return (s, SegmentEnd.Open, null);
        var survivors = segment.Members.Where(id => !segment.Lost.Contains(id) && s.Workers.TryGetValue(id, out var w) && w.Life != WorkerLife.Lost).ToList();
        long reached = survivors.Select(id => s.Workers[id].ReplicaStep).DefaultIfEmpty(s.Step).Max();
        s = s with { Segment = null, Step = Math.Max(s.Step, reached) };
        bool clean = !segment.AnyFailure && survivors.All(id => segment.Finished.TryGetValue(id, out var f) && f.ReplicaStep == segment.ToStep);
        return (s, clean && segment.ToStep == CycleEnd(settings, segment.Cycle) ? SegmentEnd.CloseCycle : SegmentEnd.Replan, segment);
    }

    /// <summary>The members of a finished segment whose replica differs from the majority's: they are resynced in the next plan.</summary>
    public static IReadOnlyList<string> DivergentReplicas(SegmentState segment)
    {
        var members = segment.Members.Where(id => segment.Finished.ContainsKey(id)).ToList();
        if (members.Count == 0) return [];
        string majority = CoordinatorState.MajorityChecksum(members.Select(id => segment.Finished[id].ParameterChecksum));
        return members.Where(id => segment.Finished[id].ParameterChecksum != majority).ToList();
    }

    /// <summary>The ledger's directives: pruned samples leave training (restored ones come back), re-fed ones get their weights.</summary>
    public static CoordinatorState ApplyDirectives(CoordinatorState s, Ledger.Protocol.CurationDirectives d) => s with
    {
        Excluded = s.Excluded.Union(d.Prune).Except(d.Restored),
        Refeed = d.Refeed.Zip(d.RefeedWeights).ToImmutableDictionary(p => p.First, p => p.Second),
    };
}
