using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using Akka.Event;
using FaceCluster.Common.Errors;
using FaceCluster.Common.Protocol;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Telemetry;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>
/// The coordinator (a cluster singleton on role "coordinator"). It admits workers, plans segments of steps —
/// the ring, each worker's local batch in proportion to its measured throughput, the shard seed and the curation
/// lists — and replans whenever a worker joins, leaves or fails, without restarting the survivors. At the end of
/// every cycle it compares the replicas' checksums, asks the ledger for prune and re-feed directives, and has a
/// checkpoint written. Per-step loss reports pass through it to the ledger.
/// </summary>
public sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    private readonly CoordinatorSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _ledger;
    private CoordinatorState _state;

    public ITimerScheduler Timers { get; set; } = null!;

    public CoordinatorActor(CoordinatorSettings settings)
    {
        _settings = settings;
        _state = CoordinatorState.Initial(settings);

        Receive<RegisterWorker>(OnRegister);
        Receive<WorkerReady>(OnReady);
        Receive<StepCompleted>(OnStepCompleted);
        Receive<IdentityProbed>(OnIdentityProbed);
        Receive<SegmentFinished>(OnSegmentFinished);
        Receive<StepFailed>(OnStepFailed);
        Receive<StateReady>(OnStateReady);
        Receive<WorkerLeaving>(OnLeaving);
        Receive<Terminated>(t => OnWorkerGone(t.ActorRef, "its actor or node is gone"));
        Receive<GraceExpired>(OnGraceExpired);
        Receive<CurationDirectives>(OnDirectives);
        Receive<DirectivesFailed>(f =>
        {
            _log.Warning("The ledger gave no directives for cycle {0} ({1}); training goes on without curation this cycle", _state.Cycle, f.Reason);
            AfterDirectives(0, 0);
        });
        Receive<CheckpointSaved>(OnCheckpointSaved);
        Receive<CheckpointFailed>(OnCheckpointFailed);
        Receive<LedgerReach>(OnLedgerReach);
        Receive<GetClusterStatus>(_ => Sender.Tell(Status()));
        Receive<GetCoordinatorState>(_ => Sender.Tell(_state));
        Receive<StopRun>(OnStopRun);
        Receive<ILedgerRequest>(m => { if (_ledger != null) _ledger.Forward(m); else Sender.Tell(new Status.Failure(new InvalidOperationException("no ledger in this run"))); });
    }

    public static Props Props(CoordinatorSettings settings) => Akka.Actor.Props.Create(() => new CoordinatorActor(settings));

    protected override void PreStart()
    {
        if (_settings.LedgerProps != null)
        {
            _ledger = Context.ActorOf(_settings.LedgerProps(), "ledger");
        }
        _log.Info("Coordinator for run {0}: {1} steps of {2} per cycle, global batch {3}, waiting for {4} worker(s)",
            _settings.Run.RunId, _settings.TotalSteps, _settings.StepsPerCycle, _settings.GlobalBatch, _settings.MinWorkers);
    }

    private long CycleEnd(long cycle) => Math.Min((cycle + 1) * _settings.StepsPerCycle, _settings.TotalSteps);

    // ---------------------------------------------------------------- membership

    private void OnRegister(RegisterWorker r)
    {
        if (r.ProtocolVersion != ProtocolInfo.Version || r.BuildVersion != ProtocolInfo.Build)
        {
            string reason = $"worker {r.WorkerId} runs protocol v{r.ProtocolVersion} (build {r.BuildVersion}); " +
                            $"this coordinator runs protocol v{ProtocolInfo.Version} (build {ProtocolInfo.Build}): upgrade them to the same build";
            _log.Warning("Refused {0}: {1}", r.WorkerId, reason);
            Sender.Tell(new RegistrationRefused(r.WorkerId, reason, ProtocolInfo.Version, ProtocolInfo.Build));
            return;
        }
        if (_state.Workers.TryGetValue(r.WorkerId, out var existing))
        {
            if (existing.Ref.Equals(Sender) && existing.Life != WorkerLife.Lost)
            {
                Sender.Tell(new RegistrationAccepted(r.WorkerId, _settings.Run));
                return;
            }
            // The same worker id from a new actor (a restarted process): the old incarnation is gone.
            OnWorkerGone(existing.Ref, "it registered again from a new process");
        }
        Context.Watch(Sender);
        var entry = new WorkerEntry(r.WorkerId, Sender, r.Host, r.DataPlaneEndpoint, r.Device, WorkerLife.Preparing, r.ReplicaStep, r.ReplicaChecksum, 0, 0, -1);
        _state = _state with { Workers = _state.Workers.SetItem(r.WorkerId, entry) };
        _log.Info("Worker {0} on {1} ({2} {3}) registered; data plane {4}", r.WorkerId, r.Host, r.Device.Kind, r.Device.Name, r.DataPlaneEndpoint);
        if (r.Device.Note.Length > 0) _settings.Observer?.Message($"{r.WorkerId}: {r.Device.Note}");
        Sender.Tell(new RegistrationAccepted(r.WorkerId, _settings.Run));
    }

    private void OnReady(WorkerReady w)
    {
        if (!_state.Workers.TryGetValue(w.WorkerId, out var entry) || !entry.Ref.Equals(Sender)) return;
        entry = entry with
        {
            Life = WorkerLife.Ready, Device = w.Device, ReplicaStep = w.ReplicaStep, Checksum = w.ParameterChecksum,
            SamplesPerSecond = w.Device.SamplesPerSecond,
        };
        _state = _state with { Workers = _state.Workers.SetItem(w.WorkerId, entry) };
        _settings.Observer?.Message($"{w.WorkerId} ready: {w.Device.Kind} {w.Device.Name}, {w.Device.SamplesPerSecond:F0} samples/s calibrated, largest batch {w.Device.MaxBatch}");
        switch (_state.Phase)
        {
            case CoordinatorPhase.WaitingForWorkers:
                if (_state.Workers.Values.Count(x => x.Alive) >= _settings.MinWorkers) PlanNext();
                break;
            case CoordinatorPhase.Running:
                RequestBoundary("worker " + w.WorkerId + " joins");
                break;
        }
    }

    private void OnLeaving(WorkerLeaving m)
    {
        if (!_state.Workers.TryGetValue(m.WorkerId, out var entry)) return;
        _log.Info("Worker {0} is leaving after step {1}", m.WorkerId, m.ReplicaStep);
        _state = _state with { Workers = _state.Workers.SetItem(m.WorkerId, entry with { Life = WorkerLife.Leaving }) };
        if (_state.Phase == CoordinatorPhase.Running && _state.Segment?.Members.Contains(m.WorkerId) == true)
            RequestBoundary("worker " + m.WorkerId + " leaves");
    }

    private void OnWorkerGone(IActorRef actor, string why)
    {
        var entry = _state.ByRef(actor);
        if (entry == null || entry.Life == WorkerLife.Lost) return;
        Context.Unwatch(actor);
        _log.Warning("Worker {0} is gone: {1}", entry.Id, why);
        _settings.Observer?.Message($"{entry.Id} left the run ({why})");
        bool wasLeaving = entry.Life == WorkerLife.Leaving;
        _state = _state with { Workers = _state.Workers.SetItem(entry.Id, entry with { Life = WorkerLife.Lost }) };
        FaceClusterMetrics.WorkerGone(entry.Id);
        var segment = _state.Segment;
        if (segment != null && segment.Members.Contains(entry.Id) && !segment.Reported(entry.Id))
        {
            _state = _state with { Segment = segment with { Lost = segment.Lost.Add(entry.Id) } };
            if (!wasLeaving) BeginReplanning(segment.Generation, $"{entry.Id} is gone");
            CheckSegmentDone();
        }
        else if (_state.Phase == CoordinatorPhase.AwaitingState)
        {
            PlanNext(); // the state source may have been this worker: choose again
        }
    }

    // ---------------------------------------------------------------- steps and segments

    private void OnStepCompleted(StepCompleted s)
    {
        _ledger?.Tell(new LossReport(s.WorkerId, s.Cycle, s.Step, s.ReportsInStep, s.SampleIds, s.Losses));
        if (_state.Workers.TryGetValue(s.WorkerId, out var entry) && s.Step > entry.LastStep)
            _state = _state with { Workers = _state.Workers.SetItem(s.WorkerId, entry with { LastStep = s.Step }) };
        double loss = 0; int n = 0;
        foreach (float l in s.Losses) if (float.IsFinite(l)) { loss += l; n++; }
        if (n > 0)
        {
            double mean = loss / n;
            _state = _state with { MeanLoss = double.IsNaN(_state.MeanLoss) ? mean : _state.MeanLoss * 0.95 + mean * 0.05 };
        }
        FaceClusterMetrics.StepCompleted(s.WorkerId, s.SampleIds.Length, s.ComputeMs, s.DataWaitMs, s.AllReduceMs, s.WorkerId == _state.Segment?.Members.FirstOrDefault());
        CheckBalance(s);
        FaceClusterMetrics.Loss(_state.MeanLoss);
        if (s.ComputeMs > 0 && _state.Segment != null && s.WorkerId == _state.Segment.Members.FirstOrDefault())
        {
            double stepMs = s.ComputeMs + s.DataWaitMs + s.AllReduceMs;
            double sps = stepMs > 0 ? _settings.GlobalBatch / (stepMs / 1000.0) : 0;
            _state = _state with { SamplesPerSecond = _state.SamplesPerSecond == 0 ? sps : _state.SamplesPerSecond * 0.9 + sps * 0.1 };
            _settings.Observer?.StepCompleted(s.Step + 1, _settings.TotalSteps, _state.MeanLoss, _state.SamplesPerSecond, stepMs);
        }
    }

    /// <summary>
    /// Measures each member's compute per step early in a segment; when the split by calibrated speed leaves the
    /// slowest member at least <see cref="CoordinatorSettings.RebalanceMinGain"/> slower than a split by the measured
    /// speeds would, the members stop at the next step boundary and the rest of the cycle is planned with the
    /// measured costs (LB-BSP's correction, within the cycle instead of at its end).
    /// </summary>
    /// <summary>The largest local batch a worker may get: what its calibration found to fit, or the global batch when unknown.</summary>
    private int MaxBatchOf(WorkerEntry w) => w.Device.MaxBatch > 0 ? w.Device.MaxBatch : _settings.GlobalBatch;

    private void CheckBalance(StepCompleted s)
    {
        var segment = _state.Segment;
        if (segment == null || s.Generation != segment.Generation || segment.BalanceChecked || segment.StopRequested
            || _settings.EqualBatches || _settings.RebalanceSampleSteps <= 0 || segment.Members.Length < 2 || _state.Phase != CoordinatorPhase.Running
            || s.Step < segment.FromStep + _settings.RebalanceSkipSteps || s.ComputeMs <= 0)
            return;
        var costs = segment.ComputeCosts.TryGetValue(s.WorkerId, out var c) ? c : (Ms: 0.0, Steps: 0);
        segment = segment with { ComputeCosts = segment.ComputeCosts.SetItem(s.WorkerId, (costs.Ms + s.ComputeMs, costs.Steps + 1)) };
        _state = _state with { Segment = segment };
        if (!segment.Members.All(id => segment.ComputeCosts.TryGetValue(id, out var m) && m.Steps >= _settings.RebalanceSampleSteps)) return;
        _state = _state with { Segment = segment with { BalanceChecked = true } };
        if (segment.ToStep - s.Step <= 2L * _settings.RebalanceSampleSteps) return; // too little of the segment left to gain
        var members = segment.Members.Select(id => _state.Workers.TryGetValue(id, out var w) ? w : null).ToList();
        if (members.Any(m => m == null || m.Batch <= 0)) return;
        var perStep = segment.Members.Select(id => segment.ComputeCosts[id].Ms / segment.ComputeCosts[id].Steps).ToArray();
        var msPerSample = members.Select((m, i) => perStep[i] / m!.Batch).ToArray();
        int[] proposed;
        try
        {
            proposed = BatchBalancer.Balance(_settings.GlobalBatch, members.Select((m, i) => new BatchBalancer.Capacity(m!.Id, 1000 / msPerSample[i],
                MaxBatchOf(m))).ToList());
        }
        catch (FaceClusterException) { return; }
        double now = perStep.Max();
        double predicted = proposed.Select((b, i) => b * msPerSample[i]).Max();
        if (now < predicted * (1 + _settings.RebalanceMinGain)) return;
        var workers = _state.Workers;
        for (int i = 0; i < members.Count; i++)
            workers = workers.SetItem(members[i]!.Id, members[i]! with { MsPerSample = msPerSample[i], FixedMs = 0 });
        _state = _state with { Workers = workers };
        string why = string.Create(CultureInfo.InvariantCulture,
            $"rebalancing: compute per step [{string.Join(", ", perStep.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))}] ms at batches [{string.Join(", ", members.Select(m => m!.Batch))}], about {predicted:F0} ms at [{string.Join(", ", proposed)}]");
        _settings.Observer?.Message(why);
        RequestBoundary(why);
    }

    private void OnIdentityProbed(IdentityProbed p)
    {
        var segment = _state.Segment;
        if (segment == null || p.Generation != segment.Generation || !segment.Members.Contains(p.WorkerId)) return;
        // Before the worker's SegmentFinished, so the ledger has it when the cycle closes.
        _ledger?.Tell(new ProbeReport(p.WorkerId, p.Cycle, p.Step, p.SampleIds, p.OwnLosses, p.OtherLosses));
    }

    private void OnSegmentFinished(SegmentFinished f)
    {
        UpdateReplica(f.WorkerId, f.ReplicaStep, f.ParameterChecksum, f.SamplesPerSecond);
        var segment = _state.Segment;
        if (segment == null || f.Generation != segment.Generation || !segment.Members.Contains(f.WorkerId)) return;
        // The step-cost model for the next plan: the batch is this segment's (a late report of an older one is not used).
        if (_state.Workers.TryGetValue(f.WorkerId, out var measured) && measured.Batch > 0 && f.MeanUpdateMs >= 0 && f.MeanComputeMs > f.MeanUpdateMs)
            _state = _state with
            {
                Workers = _state.Workers.SetItem(f.WorkerId, measured with { FixedMs = f.MeanUpdateMs, MsPerSample = (f.MeanComputeMs - f.MeanUpdateMs) / measured.Batch }),
            };
        _state = _state with { Segment = segment with { Finished = segment.Finished.SetItem(f.WorkerId, f) } };
        CheckSegmentDone();
    }

    private void OnStepFailed(StepFailed f)
    {
        UpdateReplica(f.WorkerId, f.ReplicaStep, null, null);
        var segment = _state.Segment;
        if (segment == null || f.Generation != segment.Generation || !segment.Members.Contains(f.WorkerId))
        {
            if (_state.Phase == CoordinatorPhase.AwaitingState && f.Step == -1)
            {
                _log.Warning("Worker {0} could not publish its state: {1}", f.WorkerId, f.Reason);
                MarkLost(f.WorkerId);
                PlanNext();
            }
            return;
        }
        _log.Warning("Worker {0}: step {1} failed in generation {2}: {3}", f.WorkerId, f.Step, f.Generation, f.Reason);
        _state = _state with { Segment = segment with { Failed = segment.Failed.SetItem(f.WorkerId, f) } };
        BeginReplanning(segment.Generation, f.Reason);
        CheckSegmentDone();
    }

    private void UpdateReplica(string workerId, long replicaStep, string? checksum, double? sps)
    {
        if (!_state.Workers.TryGetValue(workerId, out var entry)) return;
        entry = entry with
        {
            ReplicaStep = replicaStep,
            Checksum = checksum ?? entry.Checksum,
            SamplesPerSecond = sps is double v && v > 0 ? v : entry.SamplesPerSecond,
        };
        if (entry.Life == WorkerLife.Active) entry = entry with { Life = WorkerLife.Ready };
        _state = _state with { Workers = _state.Workers.SetItem(workerId, entry) };
    }

    private void BeginReplanning(long generation, string reason)
    {
        var segment = _state.Segment!;
        if (_state.Phase == CoordinatorPhase.Running)
        {
            _state = _state with { Phase = CoordinatorPhase.Replanning };
            _settings.Observer?.Message($"step failed ({reason}); replanning without restarting the survivors");
            foreach (var id in segment.Members)
                if (!segment.Reported(id) && _state.Workers.TryGetValue(id, out var w))
                    w.Ref.Tell(new AbortSegment(generation, reason));
        }
        if (!segment.GraceStarted)
        {
            _state = _state with { Segment = segment with { GraceStarted = true } };
            Timers.StartSingleTimer("grace", new GraceExpired(generation), _settings.FailureGrace);
        }
    }

    private void OnGraceExpired(GraceExpired g)
    {
        var segment = _state.Segment;
        if (segment == null || segment.Generation != g.Generation) return;
        foreach (var id in segment.Members.Where(id => !segment.Reported(id)))
        {
            _log.Warning("Worker {0} did not report within {1}s of the failure: taking it for gone", id, _settings.FailureGrace.TotalSeconds);
            _settings.Observer?.Message($"{id} went silent; continuing without it");
            MarkLost(id);
            _state = _state with { Segment = _state.Segment! with { Lost = _state.Segment.Lost.Add(id) } };
        }
        CheckSegmentDone();
    }

    private void MarkLost(string id)
    {
        if (_state.Workers.TryGetValue(id, out var w) && w.Life != WorkerLife.Lost)
        {
            Context.Unwatch(w.Ref);
            _state = _state with { Workers = _state.Workers.SetItem(id, w with { Life = WorkerLife.Lost }) };
        }
    }

    private void RequestBoundary(string why)
    {
        var segment = _state.Segment;
        if (segment == null || segment.StopRequested) return;
        long last = segment.Members.Select(id => _state.Workers.TryGetValue(id, out var w) ? w.LastStep : segment.FromStep).DefaultIfEmpty(segment.FromStep).Max();
        long stopAt = Math.Max(last + 2, segment.FromStep);
        if (stopAt >= segment.ToStep - 1) return; // the segment ends at the next boundary anyway
        _log.Info("{0}: members stop after step {1}", why, stopAt);
        foreach (var id in segment.Members)
            if (_state.Workers.TryGetValue(id, out var w)) w.Ref.Tell(new StopAtStep(segment.Generation, stopAt));
        _state = _state with { Segment = segment with { StopRequested = true } };
    }

    private void CheckSegmentDone()
    {
        var segment = _state.Segment;
        if (segment == null || !segment.AllReported) return;
        Timers.Cancel("grace");
        var survivors = segment.Members.Where(id => !segment.Lost.Contains(id) && _state.Workers.TryGetValue(id, out var w) && w.Life != WorkerLife.Lost).ToList();
        long reached = survivors.Select(id => _state.Workers[id].ReplicaStep).DefaultIfEmpty(_state.Step).Max();
        _state = _state with { Segment = null, Step = Math.Max(_state.Step, reached) };
        bool clean = !segment.AnyFailure && survivors.All(id => segment.Finished.TryGetValue(id, out var f) && f.ReplicaStep == segment.ToStep);
        if (clean && segment.ToStep == CycleEnd(segment.Cycle))
            CloseCycle(segment);
        else
            PlanNext();
    }

    // ---------------------------------------------------------------- cycles

    private void CloseCycle(SegmentState segment)
    {
        _state = _state with { Phase = CoordinatorPhase.ClosingCycle };
        // Replicas must be identical: the majority checksum wins, the others are resynced in the next plan.
        var members = segment.Members.Where(id => segment.Finished.ContainsKey(id)).ToList();
        var majority = members.GroupBy(id => segment.Finished[id].ParameterChecksum).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
        foreach (var id in members.Where(id => segment.Finished[id].ParameterChecksum != majority.Key))
            _log.Warning("Replica {0} differs from the majority after cycle {1}; it will be resynced from a peer", id, segment.Cycle);

        if (_ledger == null) { AfterDirectives(0, 0); return; }
        _ledger.Ask<CurationDirectives>(new CloseCycle(segment.Cycle, _state.Step), TimeSpan.FromSeconds(60))
            .PipeTo(Self, failure: e => new DirectivesFailed(e.Message));
    }

    private void OnDirectives(CurationDirectives d)
    {
        if (_state.Phase != CoordinatorPhase.ClosingCycle) return;
        var excluded = _state.Excluded.Union(d.Prune).Except(d.Restored);
        var refeed = d.Refeed.Zip(d.RefeedWeights).ToImmutableDictionary(p => p.First, p => p.Second);
        _state = _state with { Excluded = excluded, Refeed = refeed };
        AfterDirectives(d.Prune.Length, d.Refeed.Length);
    }

    private void AfterDirectives(int pruned, int refed)
    {
        long closed = _state.Cycle;
        _settings.Observer?.CycleClosed(closed, _state.Step, pruned, refed, _state.Excluded.Count);
        FaceClusterMetrics.Quarantined(_state.Excluded.Count);
        _state = _state with { Cycle = _state.Step / _settings.StepsPerCycle };
        bool last = _state.Step >= _settings.TotalSteps;
        if (_settings.Checkpoints != null) RequestCheckpoint();
        if (last)
        {
            _state = _state with { Phase = CoordinatorPhase.Finishing };
            if (_state.CheckpointsInFlight == 0) Finish("all planned steps are done");
        }
        else if (_state.CheckpointsInFlight > 0) _state = _state with { Phase = CoordinatorPhase.Checkpointing };
        else PlanNext();
    }

    /// <summary>After a save (or a failed one): the next cycle starts once the cycle's checkpoint is settled.</summary>
    private void AfterCheckpoint()
    {
        if (_state.CheckpointsInFlight > 0) return;
        if (_state.Phase == CoordinatorPhase.Finishing) Finish(_stopReason ?? "all planned steps are done");
        else if (_state.Phase == CoordinatorPhase.Checkpointing) PlanNext();
    }

    private void RequestCheckpoint()
    {
        var source = InSyncWorkers().FirstOrDefault();
        if (source == null) { _log.Warning("No replica at step {0} to checkpoint", _state.Step); return; }
        _state = _state with { CheckpointsInFlight = _state.CheckpointsInFlight + 1 };
        source.Ref.Tell(new PublishState(_state.Step));
        _pendingCheckpoint = _state.Step;
    }

    private long _pendingCheckpoint = -1;

    private void OnStateReady(StateReady ready)
    {
        _state = _state with { Published = _state.Published.SetItem(ready.WorkerId, ready.Step) };
        if (ready.Step == _pendingCheckpoint && _settings.Checkpoints is { } checkpoints)
        {
            _pendingCheckpoint = -1;
            var snapshot = new RunStateSnapshot(ready.Step, _state.Step / _settings.StepsPerCycle, _state.Excluded.Order().ToArray(),
                _state.Refeed.Keys.Order().ToArray(), _state.Refeed.OrderBy(k => k.Key).Select(k => k.Value).ToArray(),
                _state.MeanLoss, ready.ParameterChecksum);
            checkpoints.SaveAsync(ready.DataPlaneEndpoint, snapshot, CancellationToken.None)
                .PipeTo(Self, success: dir => new CheckpointSaved(ready.Step, dir), failure: e => new CheckpointFailed(ready.Step, (e as AggregateException)?.InnerException?.Message ?? e.Message));
        }
        if (_state.Phase == CoordinatorPhase.AwaitingState && _awaitingStateFrom == ready.WorkerId && ready.Step == _state.Step)
            SendPlans(ready.DataPlaneEndpoint, ready.ParameterChecksum);
    }

    private void OnCheckpointSaved(CheckpointSaved c)
    {
        _state = _state with { CheckpointsInFlight = _state.CheckpointsInFlight - 1, LastCheckpointStep = c.Step };
        _settings.Observer?.CheckpointSaved(c.Step, c.Directory);
        AfterCheckpoint();
    }

    private void OnCheckpointFailed(CheckpointFailed c)
    {
        _state = _state with { CheckpointsInFlight = _state.CheckpointsInFlight - 1 };
        // The checkpointer's reason says which checkpoint stays the latest.
        _log.Error("Checkpoint of step {0} failed: {1}", c.Step, c.Reason);
        _settings.Observer?.Message($"checkpoint of step {c.Step} failed: {c.Reason}");
        if (_state.Phase == CoordinatorPhase.Finishing && _state.CheckpointsInFlight == 0) Finish((_stopReason ?? "all planned steps are done") + " (the last checkpoint failed)");
        else AfterCheckpoint();
    }

    private void Finish(string reason)
    {
        _state = _state with { Phase = CoordinatorPhase.Finished };
        // A run stopped before its planned steps is to be resumed: the workers keep their replicas and wait for it.
        IProtocolMessage farewell = _state.Step >= _settings.TotalSteps ? new TrainingFinished(_state.Step, reason) : new CoordinatorStopping(_state.Step, reason);
        foreach (var w in _state.Workers.Values.Where(w => w.Life != WorkerLife.Lost))
            w.Ref.Tell(farewell);
        _log.Info("Run {0} finished at step {1}: {2}", _settings.Run.RunId, _state.Step, reason);
        _settings.Observer?.Finished(_state.Step, reason);
    }

    // ---------------------------------------------------------------- planning

    private string? _awaitingStateFrom;

    private IEnumerable<WorkerEntry> InSyncWorkers()
    {
        var atStep = _state.Workers.Values.Where(w => w.Alive && w.ReplicaStep == _state.Step).ToList();
        if (atStep.Count == 0) return [];
        var majority = atStep.GroupBy(w => w.Checksum).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        return atStep.Where(w => w.Checksum == majority).OrderBy(w => w.Id, StringComparer.Ordinal);
    }

    private string? _stopReason;

    private void OnStopRun(StopRun m)
    {
        if (_state.Phase is CoordinatorPhase.Finishing or CoordinatorPhase.Finished || _stopReason != null) return;
        _stopReason = m.Reason;
        _log.Info("Stop requested ({0}) at step {1}", m.Reason, _state.Step);
        _settings.Observer?.Message($"stopping ({m.Reason}): the replicas finish their step, then a checkpoint is written");
        switch (_state.Phase)
        {
            case CoordinatorPhase.Running:
                RequestBoundary("stop requested");
                break;
            case CoordinatorPhase.WaitingForWorkers:
                PlanNext();
                break;
            // Closing a cycle, checkpointing, awaiting a state or replanning all end in PlanNext, which stops.
        }
    }

    /// <summary>A requested stop, once no segment runs: checkpoint the step reached (unless it is already saved), then finish.</summary>
    private void StopNow()
    {
        _state = _state with { Phase = CoordinatorPhase.Finishing };
        if (_settings.Checkpoints != null && _state.LastCheckpointStep != _state.Step && _state.CheckpointsInFlight == 0) RequestCheckpoint();
        if (_state.CheckpointsInFlight == 0) Finish(_stopReason!);
    }

    private void PlanNext()
    {
        _awaitingStateFrom = null;
        if (_state.Phase is CoordinatorPhase.Finishing or CoordinatorPhase.Finished) return;
        if (_stopReason != null) { StopNow(); return; }
        if (_state.Step >= _settings.TotalSteps)
        {
            _state = _state with { Phase = CoordinatorPhase.Finishing };
            if (_settings.Checkpoints != null && _state.LastCheckpointStep != _state.Step && _state.CheckpointsInFlight == 0) RequestCheckpoint();
            if (_state.CheckpointsInFlight == 0) Finish("all planned steps are done");
            return;
        }
        var candidates = _state.Workers.Values.Where(w => w.Alive).ToList();
        if (candidates.Count == 0 || (_state.Step == (_settings.Resume?.Step ?? 0) && _state.Generation == 0 && candidates.Count < _settings.MinWorkers))
        {
            _state = _state with { Phase = CoordinatorPhase.WaitingForWorkers };
            _settings.Observer?.Message(candidates.Count == 0 ? "no workers left: waiting for workers to join" : $"waiting for workers ({candidates.Count}/{_settings.MinWorkers})");
            return;
        }

        AdoptNewerLiveReplicas(candidates);
        if (_state.Generation == 0 && _settings.Resume is { Checksum.Length: > 0 } start && start.Step == _state.Step
            && candidates.Any(c => c.ReplicaStep == start.Step && c.Checksum != start.Checksum))
        {
            // Replicas kept by workers across a coordinator restart are at the checkpoint's step but are not its state
            // (another run, or a checkpoint restored by hand): the checkpoint is the authority.
            _log.Warning("Live replicas at step {0} differ from the checkpoint; they adopt the checkpoint's state", start.Step);
            SendPlans(start.StateEndpoint, start.Checksum);
            return;
        }
        var inSync = InSyncWorkers().ToList();
        bool allInSync = candidates.All(c => inSync.Contains(c));
        if (allInSync) { SendPlans("", ""); return; }

        if (inSync.Count == 0)
        {
            // No live replica is at the run's step: the run resumes from the coordinator's checkpoint state.
            if (_settings.Resume is { } resume && resume.Step == _state.Step)
            {
                SendPlans(resume.StateEndpoint, resume.Checksum);
                return;
            }
            // Replicas are behind the run (e.g. the only replica that had applied the last step is gone): adopt the newest.
            long newest = candidates.Max(c => c.ReplicaStep);
            _log.Warning("No replica is at step {0}; continuing from step {1}, the newest live replica", _state.Step, newest);
            _state = _state with { Step = newest };
            inSync = InSyncWorkers().ToList();
        }
        var source = inSync.First();
        if (_state.Published.TryGetValue(source.Id, out long published) && published == _state.Step)
        {
            SendPlans(source.Endpoint, source.Checksum);
            return;
        }
        _awaitingStateFrom = source.Id;
        _state = _state with { Phase = CoordinatorPhase.AwaitingState };
        source.Ref.Tell(new PublishState(_state.Step));
    }

    /// <summary>
    /// A restarted coordinator (nothing planned yet) whose workers kept training past its checkpoint: the replicas are
    /// newer than the checkpoint, so the run continues from them and no steps are lost. (Workers keep their replica
    /// only when they rejoin the same run: same run id, model, preset, labels and seed.)
    /// </summary>
    private void AdoptNewerLiveReplicas(IReadOnlyList<WorkerEntry> candidates)
    {
        if (_state.Generation != 0 || candidates.Count == 0) return;
        long newest = candidates.Max(c => c.ReplicaStep);
        if (newest <= _state.Step || newest > _settings.TotalSteps) return;
        _log.Warning("Live replicas are at step {0}, newer than the checkpoint's step {1}: continuing from them", newest, _state.Step);
        _settings.Observer?.Message($"live replicas are at step {newest}, newer than the checkpoint's {_state.Step}: continuing from them, no steps lost");
        _state = _state with { Step = newest, Cycle = newest / _settings.StepsPerCycle };
    }

    private void SendPlans(string resyncEndpoint, string referenceChecksum)
    {
        _awaitingStateFrom = null;
        if (_stopReason != null) { StopNow(); return; }
        var members = _state.Workers.Values.Where(w => w.Alive).OrderBy(w => w.Id, StringComparer.Ordinal).ToList();
        int[] batches;
        try
        {
            batches = BatchBalancer.Balance(_settings.GlobalBatch,
                members.Select(m => new BatchBalancer.Capacity(m.Id,
                    _settings.EqualBatches ? 1.0 : m.MsPerSample > 0 ? 1000 / m.MsPerSample : m.SamplesPerSecond,
                    MaxBatchOf(m),
                    _settings.EqualBatches ? 0 : m.FixedMs)).ToList());
        }
        catch (FaceClusterException e)
        {
            _log.Error("Cannot plan: {0}", e.Message);
            _settings.Observer?.Message("cannot plan: " + e.Message + "; waiting for more workers");
            _state = _state with { Phase = CoordinatorPhase.WaitingForWorkers };
            return;
        }
        long generation = _state.Generation + 1;
        long cycle = _state.Step / _settings.StepsPerCycle;
        long to = CycleEnd(cycle);
        var ids = members.Select(m => m.Id).ToArray();
        var endpoints = members.Select(m => m.Endpoint).ToArray();
        var excluded = _state.Excluded.Order().ToArray();
        var refeedIds = _state.Refeed.Keys.Order().ToArray();
        var refeedWeights = refeedIds.Select(id => _state.Refeed[id]).ToArray();
        var inSync = InSyncWorkers().Select(w => w.Id).ToHashSet();
        var workers = _state.Workers;
        for (int rank = 0; rank < members.Count; rank++)
        {
            var m = members[rank];
            bool resync = resyncEndpoint.Length > 0 && !(inSync.Contains(m.Id) && (referenceChecksum.Length == 0 || m.Checksum == referenceChecksum));
            m.Ref.Tell(new SegmentPlan(generation, cycle, _state.Step, to, _settings.GlobalBatch, ids, endpoints, batches, rank,
                _settings.Run.Seed, excluded, refeedIds, refeedWeights, resync ? resyncEndpoint : "", _state.Step, _settings.ProbesAt(cycle, to)));
            workers = workers.SetItem(m.Id, m with { Life = WorkerLife.Active, Batch = batches[rank], LastStep = _state.Step - 1 });
        }
        _state = _state with
        {
            Phase = CoordinatorPhase.Running, Generation = generation, Cycle = cycle, Workers = workers,
            Segment = SegmentState.Start(generation, cycle, _state.Step, to, ids),
        };
        _log.Info("Generation {0}: steps {1}..{2} of cycle {3} on {4} worker(s), batches [{5}]",
            generation, _state.Step, to - 1, cycle, members.Count, string.Join(", ", batches));
        if (generation == 1 && _state.Step > 0 && _ledger != null)
        {
            // A resumed run: count the steps trained before the restart whose loss reports never reached ledger.db.
            long from = _state.Step;
            _ledger.Ask<LedgerStats>(GetLedgerStats.Instance, TimeSpan.FromSeconds(30))
                .PipeTo(Self, success: stats => new LedgerReach(from, stats.LastStep), failure: _ => new LedgerReach(from, long.MaxValue));
        }
    }

    private void OnLedgerReach(LedgerReach reach)
    {
        if (reach.LastStep == long.MaxValue || reach.LastStep + 1 >= reach.ResumedAt) return;
        long first = reach.LastStep + 1, steps = reach.ResumedAt - first;
        _log.Warning("The ledger holds loss reports up to step {0}; steps {1}..{2} were trained before the restart but their reports were lost", reach.LastStep, first, reach.ResumedAt - 1);
        _settings.Observer?.Message($"ledger: the loss reports of steps {first}..{reach.ResumedAt - 1} ({steps} step(s), {steps * _settings.GlobalBatch} records) " +
                                    "were lost with the previous coordinator (not yet flushed to ledger.db); the weights kept those steps");
    }

    private ClusterStatus Status() => new(
        _settings.Run.RunId, PhaseName(_state.Phase), _state.Step, _state.Cycle, _settings.TotalSteps, _state.Generation,
        _settings.GlobalBatch, _state.SamplesPerSecond,
        _state.Workers.Values.OrderBy(w => w.Id, StringComparer.Ordinal).Select(w => new WorkerStatus(
            w.Id, w.Host, w.Device.Kind == "cpu" ? "cpu" : $"{w.Device.Kind}:{w.Device.Index} {w.Device.Name}",
            w.Life.ToString().ToLowerInvariant(), w.Batch, w.SamplesPerSecond, w.LastStep, w.Device.Note)).ToArray());

    private static string PhaseName(CoordinatorPhase phase) => phase switch
    {
        CoordinatorPhase.WaitingForWorkers => "waiting-for-workers",
        CoordinatorPhase.AwaitingState => "replanning",
        CoordinatorPhase.Running => "running",
        CoordinatorPhase.Replanning => "replanning",
        CoordinatorPhase.ClosingCycle => "closing-cycle",
        CoordinatorPhase.Checkpointing => "checkpointing",
        CoordinatorPhase.Finishing => "finishing",
        _ => "finished",
    };

    private sealed record GraceExpired(long Generation);
    private sealed record LedgerReach(long ResumedAt, long LastStep);
    private sealed record DirectivesFailed(string Reason);
    private sealed record CheckpointSaved(long Step, string Directory);
    private sealed record CheckpointFailed(long Step, string Reason);
}

/// <summary>Asks the coordinator for its full internal state (tests and diagnostics; stays in-process).</summary>
public sealed record GetCoordinatorState
{
    public static readonly GetCoordinatorState Instance = new();
}
