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
        Receive<RegistrationAccepted>(OnAccepted);
        Receive<RegistrationRefused>(OnRefused);
        Receive<ReplicaPrepared>(OnPrepared);
        Receive<PreparationFailed>(f =>
        {
            _log.Error("Worker {0}: could not prepare the run: {1}", _engine.WorkerId, f.Reason);
            _state = _state with { Phase = WorkerPhase.Failed };
            _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.PreparationFailed, _engine.ReplicaStep, "could not prepare the run: " + f.Reason));
        });
        Receive<SegmentPlan>(plan =>
        {
            if (_state.Phase != WorkerPhase.Ready) { _log.Warning("Worker {0}: plan {1} ignored in phase {2}", _engine.WorkerId, plan.Generation, _state.Phase); return; }
            _state = _state with { Generation = plan.Generation };
            _engine.StartSegment(plan, new EventsToSelf(Self));
        });
        Receive<StopAtStep>(m => _engine.StopAt(m.Generation, m.Step));
        Receive<AbortSegment>(m => _engine.Abort(m.Generation));
        Receive<PublishState>(_ => _engine.PublishState().PipeTo(_coordinator, Self,
            failure: e => new StepFailed(_engine.WorkerId, _state.Generation, -1, _engine.ReplicaStep, "could not publish the state: " + e.Message, "")));
        Receive<StepCompleted>(m => _coordinator.Tell(m));
        Receive<IdentityProbed>(m => _coordinator.Tell(m));
        Receive<SegmentFinished>(m => _coordinator.Tell(m));
        Receive<StepFailed>(m => _coordinator.Tell(m));
        Receive<TrainingFinished>(m =>
        {
            _log.Info("Worker {0}: training finished at step {1} ({2})", _engine.WorkerId, m.Step, m.Reason);
            _state = _state with { Phase = WorkerPhase.Finished };
            _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.Finished, m.Step, m.Reason));
        });
        Receive<CoordinatorStopping>(m =>
        {
            _log.Info("Worker {0}: the coordinator stopped at step {1} ({2}); the replica is kept for its return", _engine.WorkerId, m.Step, m.Reason);
            _state = _state with { Phase = WorkerPhase.Finished };
            _lifecycle?.Complete(new WorkerOutcome(WorkerOutcomeKind.CoordinatorStopped, m.Step, m.Reason));
        });
        Receive<GetWorkerPhase>(_ => Sender.Tell(_state.Phase));
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

    /// <summary>Forwards the training thread's events to the actor (thread-safe Tell).</summary>
    private sealed class EventsToSelf(IActorRef self) : IWorkerEngineEvents
    {
        public void StepCompleted(StepCompleted step) => self.Tell(step);
        public void IdentityProbed(IdentityProbed probe) => self.Tell(probe);
        public void SegmentFinished(SegmentFinished segment) => self.Tell(segment);
        public void StepFailed(StepFailed failure) => self.Tell(failure);
    }
}
