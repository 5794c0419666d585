using System.Diagnostics;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.Recovery;
using FaceCluster.Coordinator.Ledger.State;
using FaceCluster.Coordinator.Ledger.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>
/// The per-sample loss ledger of one run, without the actor: registration, loss reports, cycle closes (the
/// curation policy and the directives), a person's commands, queries and persistence. It wires the parts: the
/// memory (<see cref="LedgerState"/>), the file (<see cref="LedgerStore"/>), the policy's round
/// (<see cref="CurationRound"/>), the quarantine (<see cref="QuarantineManager"/>) and the recovery of a reopened
/// ledger (<see cref="LedgerRecovery"/>). Not thread-safe: one caller at a time (the <see cref="LedgerActor"/>, a
/// benchmark, a test). <see cref="OpenReadOnly"/> serves the queries of a stopped run.
/// </summary>
public sealed partial class LedgerEngine : IDisposable
{
    private readonly LedgerOptions _options;
    private readonly LedgerStore _store;
    private readonly LedgerState _state;
    private readonly QuarantineManager? _quarantine;
    private readonly List<QuarantineRecord> _quarantines;
    private readonly ILogger _log;
    private readonly DirectiveBook _directives = new();
    private readonly CurationRound _round = new();
    private readonly Stopwatch _sinceFlush = Stopwatch.StartNew();
    private readonly Stopwatch _sinceSnapshot = Stopwatch.StartNew();
    private long _nextSeq;
    private readonly Dictionary<int, long> _lastStepOf;
    private bool _changedSinceSnapshot;
    private bool _disposed;

    private LedgerEngine(LedgerOptions options, LedgerStore store, bool readOnly, ILogger log)
    {
        _options = options;
        _store = store;
        ReadOnly = readOnly;
        _log = log;
        _state = new LedgerState(options);
        var recovered = LedgerRecovery.Restore(store, _state, _directives, _round, options.Policy, log);
        _quarantines = recovered.Loaded.Quarantines;
        _nextSeq = recovered.NextSeq;
        _changedSinceSnapshot = recovered.Replayed > 0;
        _lastStepOf = store.Reader.ReadLastStepPerWorker();
        long nextQuarantine = _quarantines.Count == 0 ? 1 : _quarantines.Max(q => q.Id) + 1;
        if (!readOnly)
        {
            var openMoves = store.Reader.ReadOpenMoves();
            if (openMoves.Count > 0) nextQuarantine = Math.Max(nextQuarantine, openMoves.Max(m => m.Qid) + 1);
            _quarantine = new QuarantineManager(store.Writer, options.RunDir, options.DataRoot, options.PruneAction, nextQuarantine,
                options.LoggerFactory?.CreateLogger<QuarantineManager>());
            _quarantine.RevertOpenMoves(openMoves);
        }
    }

    /// <summary>Opens (or creates) the ledger of <see cref="LedgerOptions.RunDir"/>, restoring what a previous process left.</summary>
    public static LedgerEngine Open(LedgerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var log = options.LoggerFactory?.CreateLogger<LedgerEngine>() ?? (ILogger)NullLogger.Instance;
        return Over(LedgerStore.Open(options.RunDir, log), store =>
        {
            var engine = new LedgerEngine(options, store, false, log);
            if (options.FaceSet != null) engine.Register(options.FaceSet);
            return engine;
        });
    }

    /// <summary>Opens the ledger of a stopped run for queries; commands are refused.</summary>
    public static LedgerEngine OpenReadOnly(string runDir, ILoggerFactory? loggerFactory = null)
    {
        var log = loggerFactory?.CreateLogger<LedgerEngine>() ?? (ILogger)NullLogger.Instance;
        return Over(LedgerStore.OpenReadOnly(runDir, log), store => new LedgerEngine(new LedgerOptions(runDir) { LoggerFactory = loggerFactory }, store, true, log));
    }

    /// <summary>An engine over a store it then owns: if it cannot be built, the store is closed.</summary>
    private static LedgerEngine Over(LedgerStore store, Func<LedgerStore, LedgerEngine> build)
    {
        try { return build(store); }
        catch { store.Dispose(); throw; }
    }

    public bool ReadOnly { get; }

    public LedgerOptions Options => _options;

    /// <summary>Loss records accepted but not yet in ledger.db: what a crash now would lose.</summary>
    public long UnflushedRecords => _store.Writer.UnflushedRecords;

    /// <summary>The store (tests and tools read the raw records through it).</summary>
    public LedgerStore Store => _store;

    /// <summary>The samples known to the ledger.</summary>
    public int SampleCount => _state.Count;

    // ---------------------------------------------------------------- inputs

    /// <summary>Registers (or merges) the face set, then writes a snapshot.</summary>
    public void Register(RegisterFaceSet m)
    {
        ThrowIfReadOnly();
        var (added, updated, dropped) = _state.Register(m);
        if (!string.IsNullOrEmpty(m.ManifestHash) && _state.Steps > 0 && added + updated + dropped > 0)
            _log.LogWarning("The face set changed since the ledger last saw it: {Added} samples added, {Updated} moved or relabelled, {Dropped} gone", added, updated, dropped);
        _log.LogInformation("Ledger: face set of {Samples} samples in {Identities} identities registered ({Added} new)", _state.RegisteredCount, m.IdentityNames.Length, added);
        _changedSinceSnapshot = true;
        Snapshot();
    }

    /// <summary>Takes one worker's per-sample losses of one step. Malformed reports are counted and dropped, never thrown.</summary>
    public void Ingest(LossReport r)
    {
        ThrowIfReadOnly();
        if (r.SampleIds.Length != r.Losses.Length)
        {
            _log.LogWarning("Dropped a loss report of {Worker} for step {Step}: {Ids} sample ids but {Losses} losses", r.WorkerId, r.Step, r.SampleIds.Length, r.Losses.Length);
            return;
        }
        long seq = _nextSeq++;
        int worker = _state.WorkerIndex(r.WorkerId);
        if (!_lastStepOf.TryGetValue(worker, out long last) || r.Step > last) _lastStepOf[worker] = r.Step;
        _store.Writer.AddReport(seq, worker, r);
        _state.Ingest(r, worker, seq);
        _changedSinceSnapshot = true;
        if (_store.Writer.UnflushedRecords >= _options.Flush.MaxPendingRecords && WritesPausedBecause == null) Flush();
    }

    /// <summary>
    /// Takes a report a worker sent again after a coordinator restart (it had no confirmation that it was on disk):
    /// ingested unless this ledger already holds a report of that worker for that step or a later one. Returns whether it was new.
    /// </summary>
    public bool IngestReplay(LossReport r)
    {
        ThrowIfReadOnly();
        if (_lastStepOf.TryGetValue(_state.WorkerIndex(r.WorkerId), out long last) && r.Step <= last) return false;
        Ingest(r);
        return true;
    }

    /// <summary>Per worker, the newest step whose reports are all in ledger.db since the last call (the ledger's actor tells the workers).</summary>
    public (string WorkerId, long Step)[] TakeDurableSteps()
    {
        var durable = _store.Writer.TakeDurable();
        return durable.Count == 0 ? [] : durable.Select(kv => (_state.WorkerName(kv.Key), kv.Value)).ToArray();
    }

    /// <summary>A checkpoint's validation figure: a point of its validation curve (written with the next snapshot).</summary>
    public void RecordValidation(ValidationReport r)
    {
        ThrowIfReadOnly();
        _state.AddValidation(r.Step, r.Name, r.Value);
        _changedSinceSnapshot = true;
    }

    /// <summary>Takes identity-probe losses (see <c>IIdentityProbe</c>); unknown samples and non-finite losses are left out.</summary>
    public void IngestProbe(ProbeReport r)
    {
        ThrowIfReadOnly();
        if (r.SampleIds.Length != r.OwnLosses.Length || r.SampleIds.Length != r.OtherLosses.Length)
        {
            _log.LogWarning("Dropped an identity probe of {Worker} for cycle {Cycle}: {Ids} sample ids, {Own} and {Other} losses",
                r.WorkerId, r.Cycle, r.SampleIds.Length, r.OwnLosses.Length, r.OtherLosses.Length);
            return;
        }
        long seq = _nextSeq++;
        _store.Writer.AddProbe(seq, _state.WorkerIndex(r.WorkerId), r);
        _state.IngestProbe(r, seq);
        _changedSinceSnapshot = true;
    }

    /// <summary>The flush policy's clock: writes the raw records when the interval has passed, and a snapshot when its interval has.</summary>
    public void Tick()
    {
        if (ReadOnly || _disposed) return;
        if (WritesPausedBecause != null)
        {
            if (_sinceRetry.Elapsed >= PausedRetry) Flush();
            return;
        }
        if (_changedSinceSnapshot && _sinceSnapshot.ElapsedMilliseconds >= _options.Flush.SnapshotIntervalMs) Snapshot();
        else if (_sinceFlush.ElapsedMilliseconds >= _options.Flush.IntervalMs) Flush();
    }

    /// <summary>Closes a cycle: finalizes its steps, runs the policy, applies and records its decisions, writes a snapshot, and returns the directives.</summary>
    public CurationDirectives CloseCycle(CloseCycle m)
    {
        ThrowIfReadOnly();
        var s = _state;
        if (_directives.Last != null && m.Cycle == _directives.Last.Cycle && m.Step == s.LastCloseStep && s.CycleObserved.Count == 0)
            return _directives.Last; // the same close again (a retry): the same answer
        long seq = _nextSeq++;
        s.FinalizeUpTo(m.Cycle);
        var now = DateTime.UtcNow;
        var policy = _options.Policy;
        var decision = _round.Decide(s, m.Cycle, m.Step, policy);

        var rows = new CycleSampleRow[s.CycleObserved.Count];
        for (int k = 0; k < rows.Length; k++)
        {
            int d = s.CycleObserved[k];
            var c = s.Counters[d];
            float meanRel = MathF.Exp(c.CycleSumLog / c.CycleObservations);
            float meanLoss = c.CycleSumLoss / c.CycleObservations;
            int slot = _round.SlotOf(k);
            if (slot >= 0)
            {
                var o = decision.Outcomes[slot];
                s.ApplyOutcome(o);
                if (o.Status != s.Status[d]) ApplyStatus(seq, d, o.Status, m.Cycle, m.Step, o.Reason ?? "", now);
                else if (o.Reason != null) s.SetReason(d, o.Reason);
                rows[k] = new CycleSampleRow(d, c.CycleObservations, meanRel, meanLoss, o.Z, o.ErraticZ, o.Flags, (byte)s.Status[d]);
            }
            else
            {
                rows[k] = new CycleSampleRow(d, c.CycleObservations, meanRel, meanLoss, float.NaN, float.NaN,
                    s.Status[d] == SampleStatus.Refed ? CycleFlags.Refed : CycleFlags.None, (byte)s.Status[d]);
            }
        }
        s.CloseCycle(m.Cycle, m.Step, seq);
        var directives = _directives.Build(s, policy, m.Cycle);
        _store.Writer.AddCycle(seq, m.Cycle, m.Step, now, rows.Length, decision.Decided, System.Text.Json.JsonSerializer.Serialize(policy), directives, rows);
        _changedSinceSnapshot = true;
        Flush();
        _directives.Last = directives;
        if (directives.Prune.Length + directives.Refeed.Length + directives.AwaitingReview.Length + decision.HeldByCaps > 0)
            _log.LogInformation("Cycle {Cycle}: {Prune} pruned, {Refeed} re-fed, {Flagged} flagged, {Review} awaiting review, {Held} prunes held back by caps",
                m.Cycle, directives.Prune.Length, directives.Refeed.Length, directives.Flagged.Length, directives.AwaitingReview.Length, decision.HeldByCaps);
        return directives;
    }

    /// <summary>A status change with its event; a quarantine also goes through the quarantine manager and into the next directives.</summary>
    private void ApplyStatus(long seq, int d, SampleStatus to, long cycle, long step, string reason, DateTime now)
    {
        var from = _state.Status[d];
        _state.ChangeStatus(d, to, cycle, reason);
        _store.Writer.AddEvent(new StatusEvent(seq, d, cycle, step, from, to, reason, now));
        if (to != SampleStatus.Quarantined) return;
        _quarantines.Add(_quarantine!.Quarantine(d, _state.Ids[d], _state.IdentityName(d), _state.Paths[d], cycle, step, reason, now));
        _directives.Quarantined(d);
    }

    // ---------------------------------------------------------------- persistence

    /// <summary>
    /// Makes everything accepted durable in one transaction: the raw reports, and the cycle closes, status changes
    /// and quarantines since the last flush. (The derived state is rebuilt from these on reopen; <see cref="Snapshot"/>
    /// writes it so that the rebuild is short.)
    /// </summary>
    public void Flush()
    {
        if (ReadOnly || _disposed) return;
        StageNames();
        Write(() => _store.Writer.Flush());
        _sinceFlush.Restart();
    }

    /// <summary>
    /// Flushes, and writes a snapshot of the derived state: the per-sample statistics and policy memory changed since
    /// the last snapshot, the sample rows, steps, curves, workers, totals and the steps still waiting for reports.
    /// </summary>
    public void Snapshot()
    {
        if (ReadOnly || _disposed) return;
        StageNames();
        // A snapshot that cannot be written leaves its rows buffered in the writer and its statistics marked changed.
        if (!Write(() => _store.Writer.Flush(_state.TakeSnapshot()))) return;
        _state.SnapshotWritten();
        _changedSinceSnapshot = false;
        _sinceFlush.Restart();
        _sinceSnapshot.Restart();
    }

    /// <summary>Why writes to ledger.db are paused (its disk is full), or null while they go through.</summary>
    public string? WritesPausedBecause { get; private set; }

    /// <summary>How often a paused ledger tries to write again.</summary>
    public static readonly TimeSpan PausedRetry = TimeSpan.FromSeconds(2);

    private readonly Stopwatch _sinceRetry = new();

    /// <summary>
    /// One write to ledger.db. A full disk pauses writing instead of failing: everything stays buffered (the writer
    /// clears its buffers only on commit), <see cref="WritesPausedBecause"/> says so, and the flush clock retries
    /// every <see cref="PausedRetry"/>; the first write that commits resumes. Other errors are thrown.
    /// </summary>
    private bool Write(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (IsOutOfSpace(e))
        {
            if (WritesPausedBecause == null)
                _log.LogError("Ledger writes paused: {Reason}; {Records} loss records are held in memory and written when space returns", e.Message, UnflushedRecords);
            WritesPausedBecause = $"the disk of {_store.DatabasePath} is full ({e.Message}); {UnflushedRecords} loss records are held in memory until space returns";
            _sinceRetry.Restart();
            return false;
        }
        if (WritesPausedBecause != null)
        {
            _log.LogInformation("Ledger writes resumed: everything held is in {Path}", _store.DatabasePath);
            WritesPausedBecause = null;
        }
        return true;
    }

    private static bool IsOutOfSpace(Exception e) => e switch
    {
        Microsoft.Data.Sqlite.SqliteException s => s.SqliteErrorCode is 13 /* SQLITE_FULL */ or 10 /* SQLITE_IOERR */,
        IOException io => (io.HResult & 0xFFFF) == 28 /* ENOSPC */ || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase),
        _ => e.InnerException != null && IsOutOfSpace(e.InnerException),
    };

    private void StageNames()
    {
        var (identities, workers) = _state.TakeNewNames();
        _store.Writer.AddNames(identities, workers);
    }

    /// <summary>PRAGMA wal_checkpoint(TRUNCATE): folds the write-ahead log into ledger.db.</summary>
    public void Checkpoint()
    {
        if (!ReadOnly && !_disposed) _store.Checkpoint();
    }

    private void ThrowIfReadOnly()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ReadOnly) throw new InvalidOperationException($"the ledger {_store.DatabasePath} is open read-only");
    }

    /// <summary>Closes ledger.db without writing what is buffered, as a crash would (tests of recovery).</summary>
    internal void CloseWithoutFlushing()
    {
        if (_disposed) return;
        _disposed = true;
        _store.Dispose();
    }

    /// <summary>Writes everything (unless read-only) and closes ledger.db.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            if (!ReadOnly) Snapshot();
            if (WritesPausedBecause != null)
                _log.LogError("The ledger closes with its writes paused: {Records} loss records could not be written to {Path} ({Reason})",
                    UnflushedRecords, _store.DatabasePath, WritesPausedBecause);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            _log.LogError("The ledger could not write its last records to {Path}: {Message}", _store.DatabasePath, e.Message);
        }
        finally
        {
            _disposed = true;
            _store.Dispose();
        }
    }
}
