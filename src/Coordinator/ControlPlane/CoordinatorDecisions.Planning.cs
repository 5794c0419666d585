using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>What the coordinator does after a segment, a join, a failure or a stop, once nothing runs: plan, wait, or end.</summary>
public abstract record PlanStep
{
    /// <summary>Not enough workers: wait for more (the message says how many).</summary>
    public sealed record Wait(string Message) : PlanStep;

    /// <summary>A stop was requested or every planned step is done: the run ends (see <see cref="CoordinatorDecisions.EndRun"/>).</summary>
    public sealed record End : PlanStep;

    /// <summary>Plan the next segment; replicas that are not in sync resync from <paramref name="ResyncEndpoint"/> ("" when all are).</summary>
    public sealed record Plans(string ResyncEndpoint, string ReferenceChecksum) : PlanStep;

    /// <summary>The replica others resync from has not published its state for this step yet: ask it, and plan when it has.</summary>
    public sealed record AwaitState(WorkerEntry Source) : PlanStep;
}

/// <summary>One worker's plan of a new segment, to send.</summary>
public sealed record PlannedSegment(WorkerEntry Worker, SegmentPlan Plan);

/// <summary>
/// The coordinator's decisions as functions over its state record: no actor, no messages sent, nothing logged. The
/// <see cref="CoordinatorActor"/> applies what they return (sends the plans, starts timers, asks the ledger, logs);
/// tests call them directly.
/// </summary>
public static partial class CoordinatorDecisions
{
    /// <summary>The step after which the cycle of <paramref name="cycle"/> ends.</summary>
    public static long CycleEnd(CoordinatorSettings settings, long cycle) => Math.Min((cycle + 1) * settings.StepsPerCycle, settings.TotalSteps);

    /// <summary>The largest local batch a worker may get: what its calibration found to fit, or the global batch when unknown.</summary>
    public static int MaxBatchOf(CoordinatorSettings settings, WorkerEntry w) => w.Device.MaxBatch > 0 ? w.Device.MaxBatch : settings.GlobalBatch;

    /// <summary>
    /// What comes next when no segment runs. A restarted coordinator (nothing planned yet) whose workers trained past
    /// its checkpoint continues from their replicas; replicas at the checkpoint's step that differ from it adopt it; a
    /// run with no live replica at its step continues from the checkpoint, or else from the newest live replica.
    /// <paramref name="notes"/> collects what to log and show.
    /// </summary>
    public static (CoordinatorState State, PlanStep Next) NextPlan(CoordinatorState s, CoordinatorSettings settings, ICollection<Note> notes)
    {
        s = s with { AwaitingStateFrom = null };
        if (s.StopReason != null || s.Step >= settings.TotalSteps) return (s, new PlanStep.End());
        var candidates = s.Workers.Values.Where(w => w.Alive).ToList();
        if (candidates.Count == 0 || (s.Step == (settings.Resume?.Step ?? 0) && s.Generation == 0 && candidates.Count < settings.MinWorkers))
            return (s with { Phase = CoordinatorPhase.WaitingForWorkers },
                new PlanStep.Wait(candidates.Count == 0 ? "no workers left: waiting for workers to join" : $"waiting for workers ({candidates.Count}/{settings.MinWorkers})"));

        s = AdoptNewerLiveReplicas(s, settings, candidates, notes);
        if (s.Generation == 0 && settings.Resume is { Checksum.Length: > 0 } start && start.Step == s.Step
            && candidates.Any(c => c.ReplicaStep == start.Step && c.Checksum != start.Checksum))
        {
            // Replicas kept by workers across a coordinator restart are at the checkpoint's step but are not its state
            // (another run, or a checkpoint restored by hand): the checkpoint is the authority.
            notes.Add(Note.Warning($"Live replicas at step {start.Step} differ from the checkpoint; they adopt the checkpoint's state"));
            return (s, new PlanStep.Plans(start.StateEndpoint, start.Checksum));
        }
        var inSync = s.InSyncWorkers();
        if (candidates.All(c => inSync.Contains(c))) return (s, new PlanStep.Plans("", ""));
        if (inSync.Count == 0)
        {
            // No live replica is at the run's step: the run resumes from the coordinator's checkpoint state.
            if (settings.Resume is { } resume && resume.Step == s.Step) return (s, new PlanStep.Plans(resume.StateEndpoint, resume.Checksum));
            // Replicas are behind the run (e.g. the only replica that had applied the last step is gone): adopt the newest.
            long newest = candidates.Max(c => c.ReplicaStep);
            notes.Add(Note.Warning($"No replica is at step {s.Step}; continuing from step {newest}, the newest live replica"));
            s = s with { Step = newest };
            inSync = s.InSyncWorkers();
        }
        var source = inSync[0];
        if (s.Published.TryGetValue(source.Id, out long published) && published == s.Step) return (s, new PlanStep.Plans(source.Endpoint, source.Checksum));
        return (s with { AwaitingStateFrom = source.Id, Phase = CoordinatorPhase.AwaitingState }, new PlanStep.AwaitState(source));
    }

    /// <summary>
    /// A restarted coordinator (nothing planned yet) whose workers kept training past its checkpoint: the replicas are
    /// newer than the checkpoint, so the run continues from them and no steps are lost. (Workers keep their replica
    /// only when they rejoin the same run: same run id, model, preset, labels and seed.)
    /// </summary>
    private static CoordinatorState AdoptNewerLiveReplicas(CoordinatorState s, CoordinatorSettings settings, IReadOnlyList<WorkerEntry> candidates, ICollection<Note> notes)
    {
        if (s.Generation != 0 || candidates.Count == 0) return s;
        long newest = candidates.Max(c => c.ReplicaStep);
        if (newest <= s.Step || newest > settings.TotalSteps) return s;
        notes.Add(Note.Warning($"Live replicas are at step {newest}, newer than the checkpoint's step {s.Step}: continuing from them"));
        notes.Add(Note.Show($"live replicas are at step {newest}, newer than the checkpoint's {s.Step}: continuing from them, no steps lost"));
        return s with { Step = newest, Cycle = newest / settings.StepsPerCycle };
    }

    /// <summary>
    /// The next generation's plans: every live worker, its local batch by measured speed (or equal), the rest of the
    /// cycle, the curation lists, and a resync for replicas that are not in sync. Null when the batch cannot be split
    /// (the reason in <paramref name="notes"/>; the coordinator waits for workers).
    /// </summary>
    public static (CoordinatorState State, IReadOnlyList<PlannedSegment>? Plans) PlanSegment(CoordinatorState s, CoordinatorSettings settings,
        string resyncEndpoint, string referenceChecksum, ICollection<Note> notes)
    {
        s = s with { AwaitingStateFrom = null };
        var members = s.Workers.Values.Where(w => w.Alive).OrderBy(w => w.Id, StringComparer.Ordinal).ToList();
        int[] batches;
        try
        {
            batches = BatchBalancer.Balance(settings.GlobalBatch,
                members.Select(m => new BatchBalancer.Capacity(m.Id,
                    settings.EqualBatches ? 1.0 : m.MsPerSample > 0 ? 1000 / m.MsPerSample : m.SamplesPerSecond,
                    MaxBatchOf(settings, m),
                    settings.EqualBatches ? 0 : m.FixedMs)).ToList());
        }
        catch (FaceClusterException e)
        {
            notes.Add(Note.Error("Cannot plan: " + e.Message));
            notes.Add(Note.Show("cannot plan: " + e.Message + "; waiting for more workers"));
            return (s with { Phase = CoordinatorPhase.WaitingForWorkers }, null);
        }
        long generation = s.Generation + 1;
        long cycle = s.Step / settings.StepsPerCycle;
        long to = CycleEnd(settings, cycle);
        var ids = members.Select(m => m.Id).ToArray();
        var endpoints = members.Select(m => m.Endpoint).ToArray();
        var excluded = s.Excluded.Order().ToArray();
        var refeedIds = s.Refeed.Keys.Order().ToArray();
        var refeedWeights = refeedIds.Select(id => s.Refeed[id]).ToArray();
        var inSync = s.InSyncWorkers().Select(w => w.Id).ToHashSet();
        var plans = new List<PlannedSegment>();
        var workers = s.Workers;
        for (int rank = 0; rank < members.Count; rank++)
        {
            var m = members[rank];
            bool resync = resyncEndpoint.Length > 0 && !(inSync.Contains(m.Id) && (referenceChecksum.Length == 0 || m.Checksum == referenceChecksum));
            plans.Add(new PlannedSegment(m, new SegmentPlan(generation, cycle, s.Step, to, settings.GlobalBatch, ids, endpoints, batches, rank,
                settings.Run.Seed, excluded, refeedIds, refeedWeights, resync ? resyncEndpoint : "", s.Step, settings.ProbesAt(cycle, to))));
            workers = workers.SetItem(m.Id, m with { Life = WorkerLife.Active, Batch = batches[rank], LastStep = s.Step - 1 });
        }
        notes.Add(Note.Info($"Generation {generation}: steps {s.Step}..{to - 1} of cycle {cycle} on {members.Count} worker(s), batches [{string.Join(", ", batches)}]"));
        return (s with
        {
            Phase = CoordinatorPhase.Running, Generation = generation, Cycle = cycle, Workers = workers,
            Segment = SegmentState.Start(generation, cycle, s.Step, to, ids),
        }, plans);
    }

    /// <summary>
    /// The run ends (a stop was requested, or every planned step is done): a checkpoint of the step reached is to be
    /// asked for unless it is on disk already; the run finishes once no checkpoint is in flight.
    /// </summary>
    public static (CoordinatorState State, bool Checkpoint) EndRun(CoordinatorState s, CoordinatorSettings settings) =>
        (s with { Phase = CoordinatorPhase.Finishing }, settings.Checkpoints != null && s.LastCheckpointStep != s.Step && s.CheckpointsInFlight == 0);
}
