using Akka.Actor;
using Akka.Event;
using FaceCluster.Common.Protocol;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Telemetry;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>
/// The coordinator (a cluster singleton on role "coordinator"). It admits workers, plans segments of steps — the
/// ring, each worker's local batch in proportion to its measured throughput, the shard seed and the curation lists —
/// and replans whenever a worker joins, leaves or fails, without restarting the survivors. At the end of every
/// cycle it compares the replicas' checksums, asks the ledger for prune and re-feed directives, and has a checkpoint
/// written. Per-step loss reports pass through it to the ledger. The decisions are functions over its state record
/// (<see cref="CoordinatorDecisions"/>); this actor applies what they return: messages, timers, the ledger, the log.
/// </summary>
public sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    private const string GraceTimer = "grace";
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
        Receive<LossReplay>(OnLossReplay);
        Receive<LossesDurableFor>(m =>
        {
            if (!Sender.Equals(_ledger)) return;
            for (int i = 0; i < m.WorkerIds.Length; i++)
                if (_state.Workers.TryGetValue(m.WorkerIds[i], out var w) && w.Life != WorkerLife.Lost) w.Ref.Tell(new LossesDurable(m.ThroughSteps[i]));
        });
        Receive<LedgerWrites>(m =>
        {
            if (!Sender.Equals(_ledger)) return;
            _state = _state with { LedgerPausedBecause = m.PausedBecause };
            if (m.PausedBecause != null) _settings.Observer?.Message($"ledger writes paused: {m.PausedBecause}");
            else _settings.Observer?.Message($"ledger writes resumed ({m.HeldRecords} records still to write)");
        });
        Receive<GetClusterStatus>(_ => Sender.Tell(Status()));
        Receive<StopRun>(OnStopRun);
        Receive<ILedgerRequest>(m => { if (_ledger != null) _ledger.Forward(m); else Sender.Tell(new Status.Failure(new InvalidOperationException("no ledger in this run"))); });
    }

    public static Props Props(CoordinatorSettings settings) => Akka.Actor.Props.Create(() => new CoordinatorActor(settings));

    protected override void PreStart()
    {
        if (_settings.LedgerProps != null) _ledger = Context.ActorOf(_settings.LedgerProps(), "ledger");
        _log.Info("Coordinator for run {0}: {1} steps of {2} per cycle, global batch {3}, waiting for {4} worker(s)",
            _settings.Run.RunId, _settings.TotalSteps, _settings.StepsPerCycle, _settings.GlobalBatch, _settings.MinWorkers);
        // A resumed run that is already at its planned steps (kept up with --stay-up): done, with nothing to train.
        if (_state.Step >= _settings.TotalSteps) Finish("all planned steps are done");
    }

    // ---------------------------------------------------------------- membership

    /// <summary>
    /// A worker's message counts only from the actor registered under the id it claims; anything else (a forged id,
    /// an old incarnation, a stranger) is dropped, and the log names the sender.
    /// </summary>
    private bool FromRegistered(string workerId, object message)
    {
        if (_state.Workers.TryGetValue(workerId, out var entry) && entry.Ref.Equals(Sender)) return true;
        _log.Warning("Dropped {0} claiming to be from worker {1}: it came from {2}, {3}", message.GetType().Name, workerId, Sender.Path,
            entry == null ? "and no worker of that id is registered" : $"but that worker is {entry.Ref.Path}");
        FaceClusterMetrics.MessageDropped(message.GetType().Name);
        return false;
    }

    /// <summary>A registration counts from an actor in this process (the embedded run) or on a member node of role "worker".</summary>
    private bool FromWorkerNode(RegisterWorker r)
    {
        if (Common.Hosting.SenderOrigin.IsLocalOrMemberWithRole(Context.System, Sender, Common.Hosting.ClusterNodeOptions.WorkerRole)) return true;
        _log.Warning("Dropped the registration of worker {0}: it came from {1}, which is not a worker node of this cluster", r.WorkerId, Sender.Path);
        FaceClusterMetrics.MessageDropped(nameof(RegisterWorker));
        return false;
    }

    private void OnRegister(RegisterWorker r)
    {
        if (!FromWorkerNode(r)) return;
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
        _state = _state.WithWorker(new WorkerEntry(r.WorkerId, Sender, r.Host, r.DataPlaneEndpoint, r.Device, WorkerLife.Preparing, r.ReplicaStep, "", 0, 0, -1));
        _log.Info("Worker {0} on {1} ({2} {3}) registered; data plane {4}", r.WorkerId, r.Host, r.Device.Kind, r.Device.Name, r.DataPlaneEndpoint);
        if (r.Device.Note.Length > 0) _settings.Observer?.Message($"{r.WorkerId}: {r.Device.Note}");
        Sender.Tell(new RegistrationAccepted(r.WorkerId, _settings.Run));
    }

    private void OnReady(WorkerReady w)
    {
        if (!FromRegistered(w.WorkerId, w)) return;
        var entry = _state.Workers[w.WorkerId];
        _state = _state.WithWorker(entry with
        {
            Life = WorkerLife.Ready, Device = w.Device, ReplicaStep = w.ReplicaStep, Checksum = w.ParameterChecksum, SamplesPerSecond = w.Device.SamplesPerSecond,
        });
        _settings.Observer?.Message($"{w.WorkerId} ready: {w.Device.Kind} {w.Device.Name}, {w.Device.SamplesPerSecond:F0} samples/s calibrated, largest batch {w.Device.MaxBatch}");
        if (_state.Phase == CoordinatorPhase.WaitingForWorkers && _state.Workers.Values.Count(x => x.Alive) >= _settings.MinWorkers) PlanNext();
        else if (_state.Phase == CoordinatorPhase.Running) RequestBoundary("worker " + w.WorkerId + " joins");
    }

    private void OnLeaving(WorkerLeaving m)
    {
        if (!FromRegistered(m.WorkerId, m)) return;
        var entry = _state.Workers[m.WorkerId];
        _log.Info("Worker {0} is leaving after step {1}", m.WorkerId, m.ReplicaStep);
        _state = _state.WithWorker(entry with { Life = WorkerLife.Leaving });
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
        FaceClusterMetrics.WorkerGone(entry.Id);
        var segment = _state.Segment;
        bool pending = segment != null && segment.Members.Contains(entry.Id) && !segment.Reported(entry.Id);
        _state = CoordinatorDecisions.Lost(_state, entry.Id);
        if (pending)
        {
            if (entry.Life != WorkerLife.Leaving) BeginReplanning(segment!.Generation, $"{entry.Id} is gone");
            CheckSegmentDone();
        }
        else if (_state.Phase == CoordinatorPhase.AwaitingState) PlanNext(); // the state source may have been this worker: choose again
    }

    private void MarkLost(string id)
    {
        if (_state.Workers.TryGetValue(id, out var w) && w.Life != WorkerLife.Lost) Context.Unwatch(w.Ref);
        _state = CoordinatorDecisions.Lost(_state, id);
    }

    // ---------------------------------------------------------------- steps and segments

    private void OnStepCompleted(StepCompleted s)
    {
        if (!FromRegistered(s.WorkerId, s)) return;
        _ledger?.Tell(new LossReport(s.WorkerId, s.Cycle, s.Step, s.ReportsInStep, s.SampleIds, s.Losses));
        (_state, var progress) = CoordinatorDecisions.StepDone(_state, _settings, s);
        FaceClusterMetrics.StepCompleted(s.WorkerId, s.SampleIds.Length, s.ComputeMs, s.DataWaitMs, s.AllReduceMs, s.WorkerId == _state.Segment?.Members.FirstOrDefault());
        (_state, string? rebalance) = CoordinatorDecisions.CheckBalance(_state, _settings, s);
        if (rebalance != null)
        {
            _settings.Observer?.Message(rebalance);
            RequestBoundary(rebalance);
        }
        FaceClusterMetrics.Loss(_state.MeanLoss);
        if (progress != null) _settings.Observer?.StepCompleted(progress.Step, progress.TotalSteps, progress.MeanLoss, progress.SamplesPerSecond, progress.StepMilliseconds);
    }

    /// <summary>A worker's report from before a restart that no ledger confirmed: to the ledger, which keeps it unless it holds that step already.</summary>
    private void OnLossReplay(LossReplay r)
    {
        if (!FromRegistered(r.WorkerId, r)) return;
        _ledger?.Tell(new ReplayedLossReport(new LossReport(r.WorkerId, r.Cycle, r.Step, r.ReportsInStep, r.SampleIds, r.Losses)));
    }

    private void OnIdentityProbed(IdentityProbed p)
    {
        if (!FromRegistered(p.WorkerId, p)) return;
        var segment = _state.Segment;
        if (segment == null || p.Generation != segment.Generation || !segment.Members.Contains(p.WorkerId)) return;
        // Before the worker's SegmentFinished, so the ledger has it when the cycle closes.
        _ledger?.Tell(new ProbeReport(p.WorkerId, p.Cycle, p.Step, p.SampleIds, p.OwnLosses, p.OtherLosses) { Latents = p.Latents, LatentWidth = p.LatentWidth });
    }

    private void OnSegmentFinished(SegmentFinished f)
    {
        if (!FromRegistered(f.WorkerId, f)) return;
        _state = CoordinatorDecisions.ReplicaAt(_state, f.WorkerId, f.ReplicaStep, f.ParameterChecksum, f.SamplesPerSecond);
        if (f.Telemetry != null && _state.Workers.TryGetValue(f.WorkerId, out var reporting))
            _state = _state.WithWorker(reporting with { Telemetry = f.Telemetry });
        var segment = _state.Segment;
        if (segment == null || f.Generation != segment.Generation || !segment.Members.Contains(f.WorkerId)) return;
        _state = CoordinatorDecisions.SegmentFinishedBy(_state, f);
        CheckSegmentDone();
    }

    private void OnStepFailed(StepFailed f)
    {
        if (!FromRegistered(f.WorkerId, f)) return;
        _state = CoordinatorDecisions.ReplicaAt(_state, f.WorkerId, f.ReplicaStep, null, null);
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
        if (segment.GraceStarted) return;
        _state = _state with { Segment = _state.Segment! with { GraceStarted = true } };
        Timers.StartSingleTimer(GraceTimer, new GraceExpired(generation), _settings.FailureGrace);
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
        }
        CheckSegmentDone();
    }

    private void RequestBoundary(string why)
    {
        (_state, long? stopAt) = CoordinatorDecisions.Boundary(_state);
        if (stopAt is not { } step) return;
        _log.Info("{0}: members stop after step {1}", why, step);
        var segment = _state.Segment!;
        foreach (var id in segment.Members)
            if (_state.Workers.TryGetValue(id, out var w)) w.Ref.Tell(new StopAtStep(segment.Generation, step));
    }

    private void CheckSegmentDone()
    {
        (_state, var end, var segment) = CoordinatorDecisions.SegmentOver(_state, _settings);
        if (end == SegmentEnd.Open) return;
        Timers.Cancel(GraceTimer);
        if (end == SegmentEnd.CloseCycle) CloseCycle(segment!);
        else PlanNext();
    }

    // ---------------------------------------------------------------- cycles and checkpoints

    private void CloseCycle(SegmentState segment)
    {
        _state = _state with { Phase = CoordinatorPhase.ClosingCycle };
        // Replicas must be identical: the majority checksum wins, the others are resynced in the next plan.
        foreach (var id in CoordinatorDecisions.DivergentReplicas(segment))
            _log.Warning("Replica {0} differs from the majority after cycle {1}; it will be resynced from a peer", id, segment.Cycle);
        if (_ledger == null) { AfterDirectives(0, 0); return; }
        _ledger.Ask<CurationDirectives>(new CloseCycle(segment.Cycle, _state.Step), TimeSpan.FromSeconds(60))
            .PipeTo(Self, failure: e => new DirectivesFailed(e.Message));
    }

    private void OnDirectives(CurationDirectives d)
    {
        if (_state.Phase != CoordinatorPhase.ClosingCycle) return;
        _state = CoordinatorDecisions.ApplyDirectives(_state, d);
        AfterDirectives(d.Prune.Length, d.Refeed.Length);
    }

    private void AfterDirectives(int pruned, int refed)
    {
        _settings.Observer?.CycleClosed(_state.Cycle, _state.Step, pruned, refed, _state.Excluded.Count);
        FaceClusterMetrics.Quarantined(_state.Excluded.Count);
        _state = _state with { Cycle = _state.Step / _settings.StepsPerCycle };
        if (_settings.Checkpoints != null) RequestCheckpoint();
        if (_state.Step >= _settings.TotalSteps)
        {
            _state = _state with { Phase = CoordinatorPhase.Finishing };
            if (_state.CheckpointsInFlight == 0) Finish("all planned steps are done");
        }
        else if (_state.CheckpointsInFlight > 0) _state = _state with { Phase = CoordinatorPhase.Checkpointing };
        else PlanNext();
    }

    private void RequestCheckpoint()
    {
        var source = _state.InSyncWorkers().FirstOrDefault();
        if (source == null) { _log.Warning("No replica at step {0} to checkpoint", _state.Step); return; }
        _state = _state with { CheckpointsInFlight = _state.CheckpointsInFlight + 1, PendingCheckpoint = _state.Step };
        source.Ref.Tell(new PublishState(_state.Step));
    }

    private void OnStateReady(StateReady ready)
    {
        if (!FromRegistered(ready.WorkerId, ready)) return;
        _state = _state with { Published = _state.Published.SetItem(ready.WorkerId, ready.Step) };
        if (ready.Step == _state.PendingCheckpoint && _settings.Checkpoints is { } checkpoints)
        {
            _state = _state with { PendingCheckpoint = -1 };
            var snapshot = new RunStateSnapshot(ready.Step, _state.Step / _settings.StepsPerCycle, _state.Excluded.Order().ToArray(),
                _state.Refeed.Keys.Order().ToArray(), _state.Refeed.OrderBy(k => k.Key).Select(k => k.Value).ToArray(),
                _state.MeanLoss, ready.ParameterChecksum);
            checkpoints.SaveAsync(ready.DataPlaneEndpoint, snapshot, CancellationToken.None)
                .PipeTo(Self, success: saved => new CheckpointSaved(ready.Step, saved.Directory, saved.Validation), failure: e => new CheckpointFailed(ready.Step, (e as AggregateException)?.InnerException?.Message ?? e.Message));
        }
        if (_state.Phase == CoordinatorPhase.AwaitingState && _state.AwaitingStateFrom == ready.WorkerId && ready.Step == _state.Step)
            SendPlans(ready.DataPlaneEndpoint, ready.ParameterChecksum);
    }

    private void OnCheckpointSaved(CheckpointSaved c)
    {
        _state = _state with { CheckpointsInFlight = _state.CheckpointsInFlight - 1, LastCheckpointStep = c.Step };
        _settings.Observer?.CheckpointSaved(c.Step, c.Directory);
        if (c.Validation is { } figure)
        {
            FaceClusterMetrics.Validation(figure.Name, figure.Value);
            _ledger?.Tell(new ValidationReport(c.Step, figure.Name, figure.Value));
            _settings.Observer?.Validated(c.Step, figure);
        }
        AfterCheckpoint();
    }

    private void OnCheckpointFailed(CheckpointFailed c)
    {
        _state = _state with { CheckpointsInFlight = _state.CheckpointsInFlight - 1 };
        // The checkpointer's reason says which checkpoint stays the latest.
        _log.Error("Checkpoint of step {0} failed: {1}", c.Step, c.Reason);
        _settings.Observer?.Message($"checkpoint of step {c.Step} failed: {c.Reason}");
        if (_state.Phase == CoordinatorPhase.Finishing && _state.CheckpointsInFlight == 0) Finish(_state.FinishReason + " (the last checkpoint failed)");
        else AfterCheckpoint();
    }

    /// <summary>After a save (or a failed one): the next cycle starts once the cycle's checkpoint is settled.</summary>
    private void AfterCheckpoint()
    {
        if (_state.CheckpointsInFlight > 0) return;
        if (_state.Phase == CoordinatorPhase.Finishing) Finish(_state.FinishReason);
        else if (_state.Phase == CoordinatorPhase.Checkpointing) PlanNext();
    }

    // ---------------------------------------------------------------- planning and the end of the run

    private void OnStopRun(StopRun m)
    {
        if (_state.Phase is CoordinatorPhase.Finishing or CoordinatorPhase.Finished || _state.StopReason != null) return;
        _state = _state with { StopReason = m.Reason };
        _log.Info("Stop requested ({0}) at step {1}", m.Reason, _state.Step);
        _settings.Observer?.Message($"stopping ({m.Reason}): the replicas finish their step, then a checkpoint is written");
        // Closing a cycle, checkpointing, awaiting a state or replanning all end in PlanNext, which stops.
        if (_state.Phase == CoordinatorPhase.Running) RequestBoundary("stop requested");
        else if (_state.Phase == CoordinatorPhase.WaitingForWorkers) PlanNext();
    }

    private void PlanNext()
    {
        if (_state.Phase is CoordinatorPhase.Finishing or CoordinatorPhase.Finished) { _state = _state with { AwaitingStateFrom = null }; return; }
        var notes = new List<Note>();
        (_state, var next) = CoordinatorDecisions.NextPlan(_state, _settings, notes);
        Show(notes);
        switch (next)
        {
            case PlanStep.End:
                EndRun();
                break;
            case PlanStep.Wait wait:
                _settings.Observer?.Message(wait.Message);
                break;
            case PlanStep.Plans plans:
                SendPlans(plans.ResyncEndpoint, plans.ReferenceChecksum);
                break;
            case PlanStep.AwaitState awaiting:
                awaiting.Source.Ref.Tell(new PublishState(_state.Step));
                break;
        }
    }

    private void SendPlans(string resyncEndpoint, string referenceChecksum)
    {
        if (_state.StopReason != null) { _state = _state with { AwaitingStateFrom = null }; EndRun(); return; }
        var notes = new List<Note>();
        (_state, var plans) = CoordinatorDecisions.PlanSegment(_state, _settings, resyncEndpoint, referenceChecksum, notes);
        Show(notes);
        if (plans == null) return;
        foreach (var (worker, plan) in plans) worker.Ref.Tell(plan);
        if (_state.Generation == 1 && _state.Step > 0 && _ledger != null)
        {
            // A resumed run: count the steps trained before the restart whose loss reports never reached ledger.db.
            long from = _state.Step;
            _ledger.Ask<LedgerStats>(GetLedgerStats.Instance, TimeSpan.FromSeconds(30))
                .PipeTo(Self, success: stats => new LedgerReach(from, stats.LastStep), failure: _ => new LedgerReach(from, long.MaxValue));
        }
    }

    /// <summary>A requested stop, or every planned step done, once no segment runs: checkpoint the step reached (unless it is on disk already), then finish.</summary>
    private void EndRun()
    {
        string reason = _state.FinishReason;
        (_state, bool checkpoint) = CoordinatorDecisions.EndRun(_state, _settings);
        if (checkpoint) RequestCheckpoint();
        if (_state.CheckpointsInFlight == 0) Finish(reason);
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

    private void OnLedgerReach(LedgerReach reach)
    {
        if (reach.LastStep == long.MaxValue || reach.LastStep + 1 >= reach.ResumedAt) return;
        long first = reach.LastStep + 1, steps = reach.ResumedAt - first;
        _log.Warning("The ledger holds loss reports up to step {0}; steps {1}..{2} were trained before the restart but their reports were lost", reach.LastStep, first, reach.ResumedAt - 1);
        _settings.Observer?.Message($"ledger: the loss reports of steps {first}..{reach.ResumedAt - 1} ({steps} step(s), {steps * _settings.GlobalBatch} records) " +
                                    "were lost with the previous coordinator (not yet flushed to ledger.db); the weights kept those steps");
    }

    private void Show(IEnumerable<Note> notes)
    {
        foreach (var note in notes)
        {
            switch (note.Kind)
            {
                case NoteKind.Info: _log.Info(note.Text); break;
                case NoteKind.Warning: _log.Warning(note.Text); break;
                case NoteKind.Error: _log.Error(note.Text); break;
                default: _settings.Observer?.Message(note.Text); break;
            }
        }
    }

    private ClusterStatus Status() => CoordinatorDecisions.Status(_state, _settings);

    private sealed record GraceExpired(long Generation);
    private sealed record LedgerReach(long ResumedAt, long LastStep);
    private sealed record DirectivesFailed(string Reason);
    private sealed record CheckpointSaved(long Step, string Directory, ValidationFigure? Validation);
    private sealed record CheckpointFailed(long Step, string Reason);
}
