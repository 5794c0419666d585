using System.Diagnostics;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.State;
using Microsoft.Data.Sqlite;

namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>
/// Writes ledger.db. Nothing is written per record: the ledger hands its records over as they come (buffered here),
/// and <see cref="Flush"/> writes everything buffered, and a snapshot when given, in one transaction. Buffers are
/// cleared only once that transaction commits, so a failed flush (a full disk) loses nothing it held.
/// <see cref="UnflushedRecords"/> is what a crash now would lose.
/// </summary>
public sealed class LedgerWriter
{
    private readonly LedgerStore _store;
    private readonly List<(long Seq, int Worker, LossReport Report)> _reports = new();
    private readonly List<(long Seq, int Worker, ProbeReport Report)> _probes = new();
    private readonly List<StepRow> _steps = new();
    private readonly List<StatusEvent> _events = new();
    private readonly List<QuarantineRecord> _quarantines = new();
    private readonly List<(long Seq, long Cycle, long Step, DateTime At, int Observed, bool Decided, string Options, CurationDirectives Directives)> _cycles = new();
    private readonly List<(long Cycle, IReadOnlyList<CycleSampleRow> Rows)> _cycleRows = new();
    private readonly Dictionary<int, SampleInfoRow> _sampleRows = new();
    private readonly List<(int Index, string Name)> _identities = new();
    private readonly List<(int Index, string Name)> _workers = new();
    private readonly Stopwatch _flushClock = new();
    private readonly Dictionary<int, long> _durable = new();
    private static readonly IReadOnlyDictionary<int, long> NothingDurable = new Dictionary<int, long>();
    private long _statsEntriesSinceFull;
    private bool _rewriteStats;

    internal LedgerWriter(LedgerStore store) => _store = store;

    /// <summary>Loss records accepted but not yet written to ledger.db: what a crash now would lose.</summary>
    public long UnflushedRecords { get; private set; }

    /// <summary>Raw reports written so far (in this process).</summary>
    public long FlushedReports { get; private set; }

    /// <summary>
    /// Per worker index, the newest step of the reports committed since the last call (a worker's reports come in
    /// step order and a flush writes all it holds, so every report of that worker through that step is on disk).
    /// </summary>
    internal IReadOnlyDictionary<int, long> TakeDurable()
    {
        if (_durable.Count == 0) return NothingDurable;
        var taken = new Dictionary<int, long>(_durable);
        _durable.Clear();
        return taken;
    }

    /// <summary>Transactions committed by <see cref="Flush"/> so far.</summary>
    public long Flushes { get; private set; }

    /// <summary>Time spent in <see cref="Flush"/> so far.</summary>
    public TimeSpan FlushTime => _flushClock.Elapsed;

    /// <summary>Sample statistics written since the last full snapshot (entries).</summary>
    internal long StatsEntriesSinceFull => _statsEntriesSinceFull;

    /// <summary>Continues the statistics' deltas from what the store read (a rebuilt ledger rewrites them all at its first snapshot).</summary>
    internal void ContinueFrom(LoadedLedger loaded)
    {
        _statsEntriesSinceFull = loaded.StatsEntries;
        _rewriteStats = loaded.StatsRebuilt;
    }

    // ------------------------------------------------------------------ buffering (nothing is written here)

    internal void AddReport(long seq, int worker, LossReport report)
    {
        _store.ThrowIfReadOnly();
        _reports.Add((seq, worker, report));
        UnflushedRecords += report.SampleIds.Length;
    }

    internal void AddProbe(long seq, int worker, ProbeReport report)
    {
        _store.ThrowIfReadOnly();
        _probes.Add((seq, worker, report));
    }

    internal void AddEvent(in StatusEvent e) => _events.Add(e);

    /// <summary>
    /// Records a quarantine (new or updated, e.g. restored); written at the next flush, which also closes the move
    /// journal's entry of the record (<see cref="JournalMove"/>) in the same transaction.
    /// </summary>
    internal void PutQuarantine(QuarantineRecord record) => _quarantines.Add(record);

    /// <summary>
    /// Commits, at once and on its own, that the file of quarantine <paramref name="qid"/> is about to move from
    /// <paramref name="from"/> to <paramref name="to"/>. A start that finds the entry still open (the record of the
    /// move never committed) puts the file back where the committed ledger says it is.
    /// </summary>
    internal void JournalMove(long qid, string from, string to, string sha256)
    {
        _store.ThrowIfReadOnly();
        using var tx = _store.BeginTransaction();
        InsertAll(tx, "INSERT OR REPLACE INTO quarantine_moves", ["qid", "from_path", "to_path", "sha256"], [(qid, from, to, sha256)],
            m => [m.qid, m.from, m.to, m.sha256]);
        tx.Commit();
    }

    /// <summary>Closes a move journal entry without a record (the move was undone or never happened).</summary>
    internal void CloseMove(long qid)
    {
        using var tx = _store.BeginTransaction();
        using var cmd = _store.Command("DELETE FROM quarantine_moves WHERE qid = $q;", tx);
        cmd.Parameters.AddWithValue("$q", qid);
        cmd.ExecuteNonQuery();
        tx.Commit();
    }

    internal void AddCycle(long seq, long cycle, long step, DateTime at, int observed, bool decided, string options, CurationDirectives directives, IReadOnlyList<CycleSampleRow> rows)
    {
        _cycles.Add((seq, cycle, step, at, observed, decided, options, directives));
        _cycleRows.Add((cycle, rows));
    }

    internal void AddNames(IEnumerable<(int Index, string Name)> identities, IEnumerable<(int Index, string Name)> workers)
    {
        _identities.AddRange(identities);
        _workers.AddRange(workers);
    }

    private bool HasBuffered => _reports.Count > 0 || _probes.Count > 0 || _steps.Count > 0 || _events.Count > 0 || _quarantines.Count > 0
                                || _cycles.Count > 0 || _sampleRows.Count > 0 || _identities.Count > 0 || _workers.Count > 0;

    // ------------------------------------------------------------------ writing

    /// <summary>Writes everything buffered, and the snapshot if given, in one transaction.</summary>
    internal void Flush(LedgerSnapshot? snapshot = null)
    {
        _store.ThrowIfReadOnly();
        if (snapshot != null)
        {
            foreach (var row in snapshot.SampleRows) _sampleRows[row.Dense] = row;
            _steps.AddRange(snapshot.Steps);
        }
        if (!HasBuffered && snapshot == null) return;
        _flushClock.Start();
        try
        {
            using var tx = _store.BeginTransaction();
            WriteBuffered(tx);
            if (snapshot != null) WriteSnapshot(snapshot, tx);
            tx.Commit();
        }
        finally
        {
            _flushClock.Stop();
        }
        foreach (var (_, worker, report) in _reports)
            if (!_durable.TryGetValue(worker, out long step) || report.Step > step) _durable[worker] = report.Step;
        FlushedReports += _reports.Count;
        _reports.Clear(); _probes.Clear(); _steps.Clear(); _events.Clear(); _quarantines.Clear(); _cycles.Clear(); _cycleRows.Clear();
        _sampleRows.Clear(); _identities.Clear(); _workers.Clear();
        UnflushedRecords = 0;
        Flushes++;
    }

    private void WriteBuffered(SqliteTransaction tx)
    {
        InsertAll(tx, "INSERT OR REPLACE INTO identities", ["idx", "name"], _identities, x => [x.Index, x.Name]);
        InsertAll(tx, "INSERT OR IGNORE INTO workers", ["idx", "name", "records", "sum_loss"], _workers, x => [x.Index, x.Name, 0, 0.0]);
        InsertAll(tx, "INSERT INTO samples", ["dense", "id", "identity", "path", "registered", "status", "status_cycle", "reason"],
            _sampleRows.Values.OrderBy(r => r.Dense), r => [r.Dense, r.Id, r.Identity, r.Path, r.Registered ? 1 : 0, (int)r.Status, r.StatusCycle, r.Reason],
            """
            ON CONFLICT(dense) DO UPDATE SET id = excluded.id, identity = excluded.identity, path = excluded.path, registered = excluded.registered,
                status = excluded.status, status_cycle = excluded.status_cycle, reason = excluded.reason
            """);
        InsertAll(tx, "INSERT OR REPLACE INTO reports", ["seq", "worker", "cycle", "step", "expected", "ids", "losses"], _reports,
            x => [x.Seq, x.Worker, x.Report.Cycle, x.Report.Step, x.Report.ReportsInStep, LedgerFormat.Bytes<int>(x.Report.SampleIds), LedgerFormat.Bytes<float>(x.Report.Losses)]);
        InsertAll(tx, "INSERT INTO probes", ["seq", "worker", "cycle", "step", "ids", "own", "other", "latent_width", "latents"], _probes,
            x => [x.Seq, x.Worker, x.Report.Cycle, x.Report.Step, LedgerFormat.Bytes<int>(x.Report.SampleIds), LedgerFormat.Bytes<float>(x.Report.OwnLosses),
                LedgerFormat.Bytes<float>(x.Report.OtherLosses), x.Report.LatentWidth, x.Report.Latents.Length > 0 ? LedgerFormat.Bytes<float>(x.Report.Latents) : null]);
        InsertAll(tx, "INSERT INTO steps", ["step", "cycle", "reports", "expected", "records", "median", "mean", "complete", "late", "last_seq"], _steps,
            s => [s.Step, s.Cycle, s.Reports, s.Expected, s.Records, float.IsFinite(s.Median) ? s.Median : null, float.IsFinite(s.Mean) ? s.Mean : null,
                s.Complete ? 1 : 0, s.Late ? 1 : 0, s.LastSeq]);
        InsertAll(tx, "INSERT INTO events", ["seq", "dense", "cycle", "step", "from_status", "to_status", "reason", "at"], _events,
            e => [e.Seq, e.Dense, e.Cycle, e.Step, (int)e.From, (int)e.To, e.Reason, LedgerFormat.Iso(e.At)]);
        InsertAll(tx, "INSERT OR REPLACE INTO quarantine",
            ["qid", "dense", "sample_id", "identity", "path", "cycle", "step", "action", "original_path", "current_path", "sha256", "reason", "at", "restored_cycle", "restored_at"],
            _quarantines, q => [q.Id, q.Dense, q.SampleId, q.Identity, q.Path, q.Cycle, q.Step, LedgerFormat.ActionName(q.Action), q.OriginalPath, q.CurrentPath,
                q.Sha256, q.Reason, LedgerFormat.Iso(q.At), q.RestoredCycle, q.RestoredAt is { } t ? LedgerFormat.Iso(t) : null]);
        if (_quarantines.Count > 0)
        {
            using var close = _store.Command("DELETE FROM quarantine_moves WHERE qid = $q;", tx);
            var q = close.Parameters.Add(new SqliteParameter { ParameterName = "$q" });
            foreach (var record in _quarantines)
            {
                q.Value = record.Id;
                close.ExecuteNonQuery();
            }
        }
        InsertAll(tx, "INSERT OR REPLACE INTO cycles",
            ["seq", "cycle", "step", "closed_at", "observed", "decided", "options", "prune", "refeed", "weights", "flagged", "awaiting", "restored"],
            _cycles, c => [c.Seq, c.Cycle, c.Step, LedgerFormat.Iso(c.At), c.Observed, c.Decided ? 1 : 0, c.Options, LedgerFormat.Bytes<int>(c.Directives.Prune),
                LedgerFormat.Bytes<int>(c.Directives.Refeed), LedgerFormat.Bytes<float>(c.Directives.RefeedWeights), LedgerFormat.Bytes<int>(c.Directives.Flagged),
                LedgerFormat.Bytes<int>(c.Directives.AwaitingReview), LedgerFormat.Bytes<int>(c.Directives.Restored)]);
        InsertAll(tx, "INSERT OR REPLACE INTO cycle_samples", ["chunk", "cycle", "data"],
            _cycleRows.SelectMany(c => LedgerFormat.PackCycleRows(c.Rows).Select(b => (c.Cycle, b.Chunk, b.Block))), x => [x.Chunk, x.Cycle, x.Block]);
    }

    /// <summary>
    /// The per-sample statistics changed since the previous snapshot as one packed row, or all of them (dropping the
    /// older rows) once the changes written add up to the face set's size; then curves, workers and totals.
    /// </summary>
    private void WriteSnapshot(LedgerSnapshot s, SqliteTransaction tx)
    {
        string[] statsColumns = ["full", "first", "count", "idx", "counters", "policy", "probe"];
        bool full = s.FullStats || _rewriteStats || _statsEntriesSinceFull + s.Dirty.Count > Math.Max(s.Count, 4096);
        if (full)
        {
            _store.Exec("DELETE FROM sample_stats;", tx);
            var pages = Enumerable.Range(0, (s.Count + LedgerFormat.FullPage - 1) / LedgerFormat.FullPage)
                .Select(p => (First: p * LedgerFormat.FullPage, Count: Math.Min(LedgerFormat.FullPage, s.Count - p * LedgerFormat.FullPage)));
            InsertAll(tx, "INSERT INTO sample_stats", statsColumns, pages, p => [1, p.First, p.Count, null,
                LedgerFormat.Bytes<SampleCounters>(s.Counters.AsSpan(p.First, p.Count)), LedgerFormat.Bytes<SamplePolicyState>(s.Policy.AsSpan(p.First, p.Count)),
                LedgerFormat.Bytes<ProbeCounters>(s.Probes.AsSpan(p.First, p.Count))]);
        }
        else if (s.Dirty.Count > 0)
        {
            var idx = s.Dirty.ToArray();
            InsertAll(tx, "INSERT INTO sample_stats", statsColumns, new[] { idx }, d => [0, 0, d.Length, LedgerFormat.Bytes<int>(d),
                LedgerFormat.Bytes<SampleCounters>(d.Select(i => s.Counters[i]).ToArray()), LedgerFormat.Bytes<SamplePolicyState>(d.Select(i => s.Policy[i]).ToArray()),
                LedgerFormat.Bytes<ProbeCounters>(d.Select(i => s.Probes[i]).ToArray())]);
        }
        _statsEntriesSinceFull = full ? 0 : _statsEntriesSinceFull + s.Dirty.Count;
        _rewriteStats = false;
        InsertAll(tx, "INSERT OR REPLACE INTO curves", ["name", "kind", "data"], s.Curves, c => [c.Name, c.Kind, c.Data]);
        InsertAll(tx, "INSERT OR REPLACE INTO workers", ["idx", "name", "records", "sum_loss"], s.Workers, w => [w.Index, w.Name, w.Records, w.SumLoss]);
        IEnumerable<KeyValuePair<string, object>> meta =
            [new("seq", s.Seq), new("count", s.Count), new("stats_layout", LedgerFormat.StatsLayout), .. s.Meta];
        InsertAll(tx, "INSERT OR REPLACE INTO meta", ["key", "value"], meta, m => [m.Key, m.Value]);
    }

    /// <summary>
    /// The one way rows are written: <c>{insert}(columns) VALUES ($0, $1, …) {suffix}</c> as one prepared statement,
    /// executed once per row with the row's values in column order (null is SQL NULL).
    /// </summary>
    private void InsertAll<T>(SqliteTransaction tx, string insert, string[] columns, IEnumerable<T> rows, Func<T, object?[]> values, string suffix = "")
    {
        using var enumerator = rows.GetEnumerator();
        if (!enumerator.MoveNext()) return;
        using var cmd = _store.Command(
            $"{insert}({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "$" + i))}) {suffix};", tx);
        var parameters = columns.Select((_, i) => cmd.Parameters.Add(new SqliteParameter { ParameterName = "$" + i })).ToArray();
        do
        {
            var row = values(enumerator.Current);
            for (int i = 0; i < parameters.Length; i++) parameters[i].Value = row[i] ?? DBNull.Value;
            cmd.ExecuteNonQuery();
        }
        while (enumerator.MoveNext());
    }
}
