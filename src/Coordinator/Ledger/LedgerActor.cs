using Akka.Actor;
using Akka.Event;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>
/// The ledger of a run as an actor (a child of the coordinator). It owns a <see cref="LedgerEngine"/>: loss
/// reports go in fast (buffered; written by the flush policy), <see cref="CloseCycle"/> runs the curation policy and
/// replies <see cref="CurationDirectives"/>, and every <see cref="ILedgerRequest"/> (queries, restores, review
/// decisions) is answered with its reply record or a <see cref="LedgerError"/> — never with silence. A timer drives
/// the flush policy; PostStop writes everything and closes ledger.db. If the engine fails (e.g. the disk), the
/// actor fails and its supervisor restarts it, which reopens ledger.db and restores the state from it.
/// </summary>
public sealed class LedgerActor : ReceiveActor, IWithTimers
{
    private readonly LedgerOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private LedgerEngine? _engine;

    public ITimerScheduler Timers { get; set; } = null!;

    public LedgerActor(LedgerOptions options)
    {
        _options = options;
        Receive<LossReport>(r => Engine.Ingest(r));
        Receive<ReplayedLossReport>(r => { if (!Engine.IngestReplay(r.Report)) _duplicateReplays++; });
        Receive<ProbeReport>(r => Engine.IngestProbe(r));
        Receive<ValidationReport>(r => Engine.RecordValidation(r));
        Receive<RegisterFaceSet>(m => Engine.Register(m));
        Receive<CloseCycle>(OnCloseCycle);
        Receive<ILedgerRequest>(OnRequest);
        Receive<FlushTick>(_ => Engine.Tick());
    }

    public static Props Props(LedgerOptions options) => Akka.Actor.Props.Create(() => new LedgerActor(options));

    private LedgerEngine Engine => _engine ?? throw new InvalidOperationException("the ledger is not open");

    private string? _reportedPause;
    private long _duplicateReplays;

    /// <summary>After every message: a pause or resume of ledger.db's writes goes to the parent and the metrics.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        bool handled = base.AroundReceive(receive, message);
        if (_engine is { } engine)
        {
            FaceCluster.Common.Telemetry.FaceClusterMetrics.LedgerWrites(engine.WritesPausedBecause != null, engine.UnflushedRecords);
            var durable = engine.TakeDurableSteps();
            if (durable.Length > 0)
                Context.Parent.Tell(new LossesDurableFor(durable.Select(d => d.WorkerId).ToArray(), durable.Select(d => d.Step).ToArray()));
            if (engine.WritesPausedBecause != _reportedPause)
            {
                _reportedPause = engine.WritesPausedBecause;
                Context.Parent.Tell(new LedgerWrites(_reportedPause, engine.UnflushedRecords));
            }
        }
        return handled;
    }

    protected override void PreStart()
    {
        _engine = LedgerEngine.Open(_options);
        Timers.StartPeriodicTimer("flush", FlushTick.Instance, TimeSpan.FromMilliseconds(_options.Flush.IntervalMs));
        _log.Info("Ledger open at {0} (mode {1}, prune action {2})", _engine.Store.DatabasePath, _options.Policy.Mode.ToString().ToLowerInvariant(),
            _options.PruneAction.ToString().ToLowerInvariant());
    }

    private void OnRequest(ILedgerRequest request)
    {
        try
        {
            Sender.Tell(Engine.Handle(request));
        }
        catch (Exception e)
        {
            // Never leave the asker waiting; then fail, so that the restart reopens ledger.db.
            Sender.Tell(new LedgerError(request.GetType().Name, $"the ledger failed: {e.Message}", []));
            throw;
        }
    }

    private void OnCloseCycle(CloseCycle m)
    {
        try
        {
            Sender.Tell(Engine.CloseCycle(m));
        }
        catch (Exception e)
        {
            // The coordinator goes on without curation this cycle; the restart reopens the ledger from disk.
            Sender.Tell(new Status.Failure(e));
            throw;
        }
    }

    protected override void PostStop()
    {
        if (_duplicateReplays > 0) _log.Info("Ledger: {0} replayed loss reports were already on disk and were dropped", _duplicateReplays);
        _engine?.Dispose();
        _engine = null;
        base.PostStop();
    }

    private sealed class FlushTick
    {
        public static readonly FlushTick Instance = new();
    }
}
