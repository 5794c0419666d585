using Akka.Actor;
using Akka.Event;
using FaceCluster.Common.Protocol;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.GpuWorker.Training;

namespace FaceCluster.GpuWorker.Actors;

/// <summary>
/// One worker actor per device. It registers with the coordinator, builds and calibrates its replica, and
/// passes plans to its <see cref="WorkerEngine"/>, whose training thread reports every step back through it.
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private readonly WorkerEngine _engine;
    private readonly IActorRef _coordinator;
    private readonly IFaceSetProvider _faceSets;
    private readonly WorkerLifecycle? _lifecycle;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private WorkerActorState _state = WorkerActorState.Initial;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="coordinator">The coordinator singleton (a proxy).</param>
    /// <param name="lifecycle">Told when the coordinator accepts the worker, and how its part in the run ends.</param>
    public WorkerActor(WorkerEngine engine, IActorRef coordinator, IFaceSetProvider faceSets, WorkerLifecycle? lifecycle = null)
    {
        _engine = engine;
        _coordinator = coordinator;
        _faceSets = faceSets;
        _lifecycle = lifecycle;

        Receive<RetryRegistration>(_ => Register());
        Receive<RegistrationAccepted>(m => { if (FromCoordinatorNode(m)) OnAccepted(m); });
        Receive<RegistrationRefused>(m => { if (FromCoordinatorNode(m)) OnRefused(m); });
        Receive<ReplicaPrepared>(OnPrepared);
        Receive<PreparationFailed>(f =>
        {
            _log.Error("Worker {0}: could not prepare the run: {1}", _engine.WorkerId, f.Reason);
            _state = _state with { Phase = WorkerPhase.Failed };
            _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.PreparationFailed, _engine.ReplicaStep, "could not prepare the run: " + f.Reason));
        });
        Receive<SegmentPlan>(plan =>
        {
            if (!FromCoordinator(plan)) return;
            if (_state.Phase != WorkerPhase.Ready) { _log.Warning("Worker {0}: plan {1} ignored in phase {2}", _engine.WorkerId, plan.Generation, _state.Phase); return; }
            _state = _state with { Generation = plan.Generation };
            _engine.StartSegment(plan, new EventsToSelf(Self));
        });
        Receive<LossesDurable>(m => { if (FromCoordinator(m)) _engine.Outbox.Confirm(m.ThroughStep); });
        Receive<StopAtStep>(m => { if (FromCoordinator(m)) _engine.StopAt(m.Generation, m.Step); });
        Receive<AbortSegment>(m => { if (FromCoordinator(m)) _engine.Abort(m.Generation); });
        Receive<PublishState>(m =>
        {
            if (!FromCoordinator(m)) return;
            _engine.PublishState().PipeTo(_coordinator, Self,
                failure: e => new StepFailed(_engine.WorkerId, _state.Generation, -1, _engine.ReplicaStep, "could not publish the state: " + e.Message, ""));
        });
        // The engine's own reports, wrapped in a type no peer can send: only these are passed on under this worker's name.
        Receive<EngineEvent>(e => _coordinator.Tell(e.Message));
        Receive<EngineGaveUp>(m =>
        {
            _log.Error("Worker {0}: cannot go on: {1}", _engine.WorkerId, m.Reason);
            _state = _state with { Phase = WorkerPhase.Failed };
            _coordinator.Tell(new WorkerLeaving(_engine.WorkerId, _engine.ReplicaStep));
            _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.Failed, _engine.ReplicaStep, m.Reason));
        });
        Receive<TrainingFinished>(m =>
        {
            if (!FromCoordinator(m)) return;
            _log.Info("Worker {0}: training finished at step {1} ({2})", _engine.WorkerId, m.Step, m.Reason);
            _state = _state with { Phase = WorkerPhase.Finished };
            _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.Finished, m.Step, m.Reason));
        });
        Receive<CoordinatorStopping>(m =>
        {
            if (!FromCoordinator(m)) return;
            _log.Info("Worker {0}: the coordinator stopped at step {1} ({2}); the replica is kept for its return", _engine.WorkerId, m.Step, m.Reason);
            _state = _state with { Phase = WorkerPhase.Finished };
            _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.CoordinatorStopped, m.Step, m.Reason));
        });
        Receive<GetWorkerPhase>(_ => Sender.Tell(_state.Phase));
        Receive<LeaveRun>(_ => _coordinator.Tell(new WorkerLeaving(_engine.WorkerId, _engine.ReplicaStep)));
    }

    /// <summary>
    /// The coordinator's answer to a registration counts from an actor in this process (the embedded run) or on a
    /// member node of role "coordinator"; its sender becomes the one coordinator this worker obeys.
    /// </summary>
    private bool FromCoordinatorNode(IProtocolMessage message)
    {
        if (!Common.Hosting.SenderOrigin.IsLocalOrMemberWithRole(Context.System, Sender, Common.Hosting.ClusterNodeOptions.CoordinatorRole))
            return Drop(message, "it is not a coordinator node of this cluster");
        if (_state.Phase == WorkerPhase.Registering) _state = _state with { Coordinator = Sender };
        return true;
    }

    /// <summary>Orders count only from the coordinator that accepted this worker; others are dropped, naming the sender.</summary>
    private bool FromCoordinator(IProtocolMessage message) =>
        _state.Coordinator is { } coordinator && coordinator.Equals(Sender)
        || Drop(message, _state.Coordinator == null ? "no coordinator has accepted this worker yet" : $"this worker's coordinator is {_state.Coordinator.Path}");

    private bool Drop(IProtocolMessage message, string why)
    {
        _log.Warning("Worker {0}: dropped {1} from {2}: {3}", _engine.WorkerId, message.GetType().Name, Sender.Path, why);
        return false;
    }

    protected override void PreStart()
    {
        Register();
        Timers.StartPeriodicTimer("register", RetryRegistration.Instance, TimeSpan.FromSeconds(2));
    }

    private int _registrationAttempts;

    private void Register()
    {
        if (_state.Phase != WorkerPhase.Registering) { Timers.Cancel("register"); return; }
        _registrationAttempts++;
        if (_registrationAttempts % 15 == 0)
            _log.Warning("Worker {0}: no coordinator has answered {1} registration attempts ({2} s); check that a coordinator is running and that --join names it",
                _engine.WorkerId, _registrationAttempts, _registrationAttempts * 2);
        var device = _engine.Device;
        _coordinator.Tell(new RegisterWorker(_engine.WorkerId, Environment.MachineName, ProtocolInfo.Version, ProtocolInfo.Build,
            _engine.Endpoint.AdvertisedEndpoint,
            new DeviceReport(device.Kind, device.Index, device.Vendor, device.Name, device.MemoryBytes, 0, 0, device.Note),
            _engine.ReplicaStep));
    }

    private void OnAccepted(RegistrationAccepted accepted)
    {
        if (_state.Phase != WorkerPhase.Registering) return;
        Timers.Cancel("register");
        _state = _state with { Phase = WorkerPhase.Preparing };
        _log.Info("Worker {0}: accepted into run {1}; preparing the replica", _engine.WorkerId, accepted.Run.RunId);
        // Losses no ledger confirmed (a coordinator that crashed before writing them): sent again; the ledger drops what it holds.
        var unconfirmed = _engine.Outbox.Pending();
        foreach (var s in unconfirmed)
            _coordinator.Tell(new LossReplay(s.WorkerId, s.Cycle, s.Step, s.ReportsInStep, s.SampleIds, s.Losses));
        if (unconfirmed.Length > 0)
            _log.Info("Worker {0}: sent the losses of {1} unconfirmed steps ({2}..{3}) again", _engine.WorkerId, unconfirmed.Length, unconfirmed[0].Step, unconfirmed[^1].Step);
        _lifecycle?.Accepted();
        var engine = _engine;
        var faceSets = _faceSets;
        PrepareAsync(engine, faceSets, accepted.Run).PipeTo(Self, Self, failure: e => new PreparationFailed((e as AggregateException)?.InnerException?.Message ?? e.Message));
    }

    private static async Task<ReplicaPrepared> PrepareAsync(WorkerEngine engine, IFaceSetProvider faceSets, RunSpec run)
    {
        var view = await faceSets.OpenAsync(run, CancellationToken.None).ConfigureAwait(false);
        string checksum = await engine.Configure(run, view).ConfigureAwait(false);
        var device = await engine.Calibrate().ConfigureAwait(false);
        return new ReplicaPrepared(device, engine.ReplicaStep, checksum);
    }

    private void OnPrepared(ReplicaPrepared prepared)
    {
        _state = _state with { Phase = WorkerPhase.Ready };
        _coordinator.Tell(new WorkerReady(_engine.WorkerId, prepared.Device, prepared.ReplicaStep, prepared.Checksum));
    }

    private void OnRefused(RegistrationRefused refused)
    {
        Timers.Cancel("register");
        _log.Error("Worker {0}: refused by the coordinator: {1}", _engine.WorkerId, refused.Reason);
        _state = _state with { Phase = WorkerPhase.Refused };
        _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.Refused, _engine.ReplicaStep, refused.Reason));
    }

    public static Props Props(WorkerEngine engine, IActorRef coordinator, IFaceSetProvider faceSets, WorkerLifecycle? lifecycle = null) =>
        Akka.Actor.Props.Create(() => new WorkerActor(engine, coordinator, faceSets, lifecycle));

    private sealed record RetryRegistration { public static readonly RetryRegistration Instance = new(); }
    private sealed record ReplicaPrepared(DeviceReport Device, long ReplicaStep, string Checksum);
    private sealed record PreparationFailed(string Reason);

    /// <summary>This worker's engine cannot go on.</summary>
    private sealed record EngineGaveUp(string Reason);

    /// <summary>A report of this worker's own engine (never a remote message: the type is private and has no serializer).</summary>
    private sealed record EngineEvent(IProtocolMessage Message);

    /// <summary>Forwards the training thread's events to the actor (thread-safe Tell).</summary>
    private sealed class EventsToSelf(IActorRef self) : IWorkerEngineEvents
    {
        public void StepCompleted(StepCompleted step) => self.Tell(new EngineEvent(step));
        public void IdentityProbed(IdentityProbed probe) => self.Tell(new EngineEvent(probe));
        public void SegmentFinished(SegmentFinished segment) => self.Tell(new EngineEvent(segment));
        public void StepFailed(StepFailed failure) => self.Tell(new EngineEvent(failure));
        public void CapacityChanged(WorkerReady ready) => self.Tell(new EngineEvent(ready));
        public void CannotContinue(string reason) => self.Tell(new EngineGaveUp(reason));
    }
}
