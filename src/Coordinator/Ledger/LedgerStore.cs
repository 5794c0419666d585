using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FaceCluster.Common.Errors;
using FaceCluster.Coordinator.Ledger.Protocol;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>
/// The ledger's persistence: SQLite in RUNDIR/ledger.db (WAL, synchronous=NORMAL, exclusive locking so a second
/// process cannot write the same run; schema versioned with PRAGMA user_version).
/// <para><b>What is stored.</b> Every loss report raw, one row per report with its sample ids and losses as BLOBs
/// (<c>reports</c>); every finalized step (<c>steps</c>); the slowly changing facts of each sample, rewritten only
/// when they change (<c>samples</c>); status changes (<c>events</c>); quarantines (<c>quarantine</c>); closed cycles
/// with their directives (<c>cycles</c>) and the per-cycle rows of the samples seen in them, packed per block of
/// 4096 samples so one sample's history is one indexed range read (<c>cycle_samples</c>); loss curves (<c>curves</c>).
/// The per-sample statistics are written as snapshots (<c>sample_stats</c>): only the samples changed since the
/// previous snapshot, as packed BLOBs, with a full rewrite (dropping the older rows) once the changes written add up
/// to the face set's size — so a snapshot costs bytes in proportion to what changed, not one SQL row per sample.</para>
/// <para><b>Cost.</b> Nothing is written per record: the ledger buffers, and <see cref="Flush()"/> writes everything
/// buffered in one transaction. <see cref="UnflushedRecords"/> is what a crash would lose.</para>
/// <para><b>Schema versions.</b> 1: the first. 2: identity probes (<c>probes</c>, raw like <c>reports</c>; a <c>probe</c>
/// BLOB in <c>sample_stats</c>). A version-1 ledger is upgraded when a run opens it for writing; read-only queries
/// read it as it is (no probe statistics).</para>
/// <para><b>Recovery.</b> <see cref="Load"/> returns the newest snapshot; the raw reports after its sequence number
/// (<see cref="ReadReportsAfter"/>) are replayed on top of it.</para>
/// </summary>
public sealed class LedgerStore : IDisposable
{
    public const string FileName = "ledger.db";
    public const int SchemaVersion = 2;
    internal const int ChunkShift = 12;
    private const int FullPage = 65536;
    private const int CycleEntryBytes = 12;

    private readonly SqliteConnection _connection;
    private readonly ILogger _log;
    private readonly List<(long Seq, int Worker, LossReport Report)> _reports = new();
    private readonly List<(long Seq, int Worker, ProbeReport Report)> _probes = new();
    private bool _hasProbes = true;
    private readonly List<StepRow> _steps = new();
    private readonly List<StatusEvent> _events = new();
    private readonly List<QuarantineRecord> _quarantines = new();
    private readonly List<(long Seq, long Cycle, long Step, DateTime At, int Observed, bool Decided, string Options, CurationDirectives Directives)> _cycles = new();
    private readonly List<(long Cycle, CycleSampleRow[] Rows)> _cycleRows = new();
    private readonly Dictionary<int, SampleInfoRow> _sampleRows = new();
    private readonly List<(int Index, string Name)> _identities = new();
    private readonly List<(int Index, string Name)> _workers = new();
    private long _unflushedRecords;
    private long _statsEntriesSinceFull;
    private bool _disposed;

    private LedgerStore(SqliteConnection connection, string path, bool readOnly, ILogger log)
    {
        _connection = connection;
        DatabasePath = path;
        ReadOnly = readOnly;
        _log = log;
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    public bool ReadOnly { get; }

    /// <summary>Loss records accepted but not yet written to ledger.db: what a crash now would lose.</summary>
    public long UnflushedRecords => _unflushedRecords;

    /// <summary>Raw reports written so far (in this process).</summary>
    public long FlushedReports { get; private set; }

    /// <summary>Transactions committed by <see cref="Flush()"/> so far.</summary>
    public long Flushes { get; private set; }

    /// <summary>Time spent in <see cref="Flush()"/> so far.</summary>
    public TimeSpan FlushTime => _flushClock.Elapsed;

    private readonly Stopwatch _flushClock = new();

    /// <summary>Sample statistics written since the last full snapshot (entries).</summary>
    internal long StatsEntriesSinceFull => _statsEntriesSinceFull;

    /// <summary>Opens (creating if needed) RUNDIR/ledger.db for writing; another process holding it is an error naming the path.</summary>
    public static LedgerStore Open(string runDir, ILogger? logger = null)
    {
        string dir = Path.GetFullPath(runDir);
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"cannot create the run folder {dir}: {e.Message}");
        }
        string path = Path.Combine(dir, FileName);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = 1,
        }.ToString());
        var store = new LedgerStore(connection, path, false, logger ?? NullLogger.Instance);
        try
        {
            connection.Open();
            store.Exec("PRAGMA locking_mode=EXCLUSIVE;");
            store.Exec("PRAGMA page_size=16384;"); // a new database only: rows carry BLOBs of a few KB
            string mode = Convert.ToString(store.Scalar("PRAGMA journal_mode=WAL;"), CultureInfo.InvariantCulture) ?? "";
            if (!mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
                throw new FaceClusterException($"the ledger {path} could not switch to WAL journaling (journal mode is '{mode}')");
            store.Exec("PRAGMA synchronous=NORMAL;");
            store.Exec("PRAGMA wal_autocheckpoint=16384;");
            store.CreateOrCheckSchema();
            return store;
        }
        catch (SqliteException e) when (IsLocked(e))
        {
            store.Dispose();
            throw new FaceClusterException($"the ledger {path} is locked by another process (is a coordinator running this run?)", ExitCodes.Locked, e);
        }
        catch (SqliteException e)
        {
            store.Dispose();
            throw new FaceClusterException($"cannot open the ledger {path}: {e.Message}", ExitCodes.UserError, e);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Opens RUNDIR/ledger.db of a stopped run for queries only. A missing folder or file, or a run still holding it, is an error naming the path.</summary>
    public static LedgerStore OpenReadOnly(string runDir, ILogger? logger = null)
    {
        string dir = Path.GetFullPath(runDir);
        if (!Directory.Exists(dir)) throw new FaceClusterException($"the run folder {dir} does not exist");
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FaceClusterException($"the run folder {dir} has no ledger ({path} does not exist)");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 1,
        }.ToString());
        var store = new LedgerStore(connection, path, true, logger ?? NullLogger.Instance);
        try
        {
            connection.Open();
            long version = Convert.ToInt64(store.Scalar("PRAGMA user_version;"), CultureInfo.InvariantCulture);
            if (version == 0) throw new FaceClusterException($"{path} is not a FaceCluster ledger (no schema version)");
            if (version > SchemaVersion)
                throw new FaceClusterException($"the ledger {path} has schema version {version}; this build reads up to {SchemaVersion}: use a newer facecluster", ExitCodes.VersionMismatch);
            store._hasProbes = version >= 2;
            return store;
        }
        catch (SqliteException e) when (IsLocked(e))
        {
            store.Dispose();
            throw new FaceClusterException($"the ledger {path} is locked by another process (a running coordinator: ask it over its HTTP API instead)", ExitCodes.Locked, e);
        }
        catch (SqliteException e)
        {
            store.Dispose();
            throw new FaceClusterException($"cannot read the ledger {path}: {e.Message}", ExitCodes.UserError, e);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static bool IsLocked(SqliteException e) => e.SqliteErrorCode is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED

    private void CreateOrCheckSchema()
    {
        using var tx = _connection.BeginTransaction();
        long version = Convert.ToInt64(Scalar("PRAGMA user_version;", tx), CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
            throw new FaceClusterException($"the ledger {DatabasePath} has schema version {version}; this build reads up to {SchemaVersion}: use a newer facecluster", ExitCodes.VersionMismatch);
        if (version == 0)
        {
            long tables = Convert.ToInt64(Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table';", tx), CultureInfo.InvariantCulture);
            if (tables > 0) throw new FaceClusterException($"{DatabasePath} is a SQLite database but not a FaceCluster ledger (tables without a schema version)");
            Exec("""
                CREATE TABLE meta(rowid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value);
                CREATE TABLE identities(idx INTEGER PRIMARY KEY, name TEXT NOT NULL);
                CREATE TABLE workers(idx INTEGER PRIMARY KEY, name TEXT NOT NULL, records INTEGER NOT NULL, sum_loss REAL NOT NULL);
                CREATE TABLE samples(dense INTEGER PRIMARY KEY, id INTEGER NOT NULL, identity INTEGER NOT NULL, path TEXT NOT NULL,
                    registered INTEGER NOT NULL, status INTEGER NOT NULL, status_cycle INTEGER NOT NULL, reason TEXT NOT NULL);
                CREATE INDEX samples_id ON samples(id);
                CREATE TABLE sample_stats(version INTEGER PRIMARY KEY AUTOINCREMENT, full INTEGER NOT NULL, first INTEGER NOT NULL,
                    count INTEGER NOT NULL, idx BLOB, counters BLOB NOT NULL, policy BLOB NOT NULL, probe BLOB);
                CREATE TABLE probes(seq INTEGER PRIMARY KEY, worker INTEGER NOT NULL, cycle INTEGER NOT NULL, step INTEGER NOT NULL,
                    ids BLOB NOT NULL, own BLOB NOT NULL, other BLOB NOT NULL);
                CREATE TABLE reports(seq INTEGER PRIMARY KEY, worker INTEGER NOT NULL, cycle INTEGER NOT NULL, step INTEGER NOT NULL,
                    expected INTEGER NOT NULL, ids BLOB NOT NULL, losses BLOB NOT NULL);
                CREATE TABLE steps(rowid INTEGER PRIMARY KEY, step INTEGER NOT NULL, cycle INTEGER NOT NULL, reports INTEGER NOT NULL,
                    expected INTEGER NOT NULL, records INTEGER NOT NULL, median REAL, mean REAL, complete INTEGER NOT NULL, late INTEGER NOT NULL, last_seq INTEGER NOT NULL);
                CREATE INDEX steps_step ON steps(step);
                CREATE TABLE cycles(seq INTEGER PRIMARY KEY, cycle INTEGER NOT NULL, step INTEGER NOT NULL, closed_at TEXT NOT NULL, observed INTEGER NOT NULL,
                    decided INTEGER NOT NULL, options TEXT NOT NULL, prune BLOB NOT NULL, refeed BLOB NOT NULL, weights BLOB NOT NULL, flagged BLOB NOT NULL,
                    awaiting BLOB NOT NULL, restored BLOB NOT NULL);
                CREATE TABLE cycle_samples(rowid INTEGER PRIMARY KEY, chunk INTEGER NOT NULL, cycle INTEGER NOT NULL, data BLOB NOT NULL);
                CREATE UNIQUE INDEX cycle_samples_key ON cycle_samples(chunk, cycle);
                CREATE TABLE events(rowid INTEGER PRIMARY KEY, seq INTEGER NOT NULL, dense INTEGER NOT NULL, cycle INTEGER NOT NULL, step INTEGER NOT NULL,
                    from_status INTEGER NOT NULL, to_status INTEGER NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);
                CREATE INDEX events_dense ON events(dense);
                CREATE INDEX events_seq ON events(seq);
                CREATE TABLE quarantine(qid INTEGER PRIMARY KEY, dense INTEGER NOT NULL, sample_id INTEGER NOT NULL, identity TEXT NOT NULL, path TEXT NOT NULL,
                    cycle INTEGER NOT NULL, step INTEGER NOT NULL, action TEXT NOT NULL, original_path TEXT NOT NULL, current_path TEXT NOT NULL,
                    sha256 TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, restored_cycle INTEGER NOT NULL, restored_at TEXT);
                CREATE TABLE curves(rowid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL, data BLOB NOT NULL);
                """, tx);
            Exec($"PRAGMA user_version = {SchemaVersion};", tx);
        }
        else if (version == 1)
        {
            Exec("""
                ALTER TABLE sample_stats ADD COLUMN probe BLOB;
                CREATE TABLE probes(seq INTEGER PRIMARY KEY, worker INTEGER NOT NULL, cycle INTEGER NOT NULL, step INTEGER NOT NULL,
                    ids BLOB NOT NULL, own BLOB NOT NULL, other BLOB NOT NULL);
                """, tx);
            Exec($"PRAGMA user_version = {SchemaVersion};", tx);
            _log.LogInformation("Ledger {Path}: upgraded from schema version 1 to {Version} (identity probes)", DatabasePath, SchemaVersion);
        }
        tx.Commit();
    }

    // ------------------------------------------------------------------ buffering (nothing is written here)

    internal void AddReport(long seq, int worker, LossReport report)
    {
        ThrowIfReadOnly();
        _reports.Add((seq, worker, report));
        _unflushedRecords += report.SampleIds.Length;
    }

    internal void AddProbe(long seq, int worker, ProbeReport report)
    {
        ThrowIfReadOnly();
        _probes.Add((seq, worker, report));
    }

    internal void AddStep(in StepRow row) => _steps.Add(row);
    internal void AddEvent(in StatusEvent e) => _events.Add(e);

    /// <summary>Records a quarantine (new or updated, e.g. restored); written at the next flush.</summary>
    internal void PutQuarantine(QuarantineRecord record) => _quarantines.Add(record);

    internal void AddCycle(long seq, long cycle, long step, DateTime at, int observed, bool decided, string options, CurationDirectives directives, CycleSampleRow[] rows)
    {
        _cycles.Add((seq, cycle, step, at, observed, decided, options, directives));
        _cycleRows.Add((cycle, rows));
    }

    internal void PutSample(in SampleInfoRow row) => _sampleRows[row.Dense] = row;
    internal void AddIdentity(int index, string name) => _identities.Add((index, name));
    internal void AddWorker(int index, string name) => _workers.Add((index, name));

    internal bool HasBuffered => _reports.Count > 0 || _probes.Count > 0 || _steps.Count > 0 || _events.Count > 0 || _quarantines.Count > 0
                                 || _cycles.Count > 0 || _sampleRows.Count > 0 || _identities.Count > 0 || _workers.Count > 0;

    // ------------------------------------------------------------------ writing

    /// <summary>Writes everything buffered (raw reports and the rest) in one transaction.</summary>
    public void Flush() => Flush(null);

    /// <summary>Writes everything buffered, and the snapshot if given, in one transaction.</summary>
    internal void Flush(LedgerSnapshot? snapshot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfReadOnly();
        if (!HasBuffered && snapshot == null) return;
        _flushClock.Start();
        try
        {
            WriteAll(snapshot);
        }
        finally
        {
            _flushClock.Stop();
        }
    }

    private void WriteAll(LedgerSnapshot? snapshot)
    {
        using var tx = _connection.BeginTransaction();
        WriteIdentities(tx);
        WriteWorkers(tx);
        WriteSamples(tx);
        WriteReports(tx);
        WriteProbes(tx);
        WriteSteps(tx);
        WriteEvents(tx);
        WriteQuarantines(tx);
        WriteCycles(tx);
        if (snapshot != null) WriteSnapshot(snapshot, tx);
        tx.Commit();
        FlushedReports += _reports.Count;
        _reports.Clear(); _probes.Clear(); _steps.Clear(); _events.Clear(); _quarantines.Clear(); _cycles.Clear(); _cycleRows.Clear(); _sampleRows.Clear(); _identities.Clear(); _workers.Clear();
        _unflushedRecords = 0;
        Flushes++;
    }

    /// <summary>Copies the write-ahead log into the database file and truncates it (PRAGMA wal_checkpoint(TRUNCATE)).</summary>
    public void Checkpoint()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ReadOnly) return;
        Exec("PRAGMA wal_checkpoint(TRUNCATE);");
    }

    private void WriteIdentities(SqliteTransaction tx)
    {
        if (_identities.Count == 0) return;
        using var cmd = Command("INSERT OR REPLACE INTO identities(idx, name) VALUES ($i, $n);", tx);
        var pi = cmd.Parameters.Add("$i", SqliteType.Integer);
        var pn = cmd.Parameters.Add("$n", SqliteType.Text);
        foreach (var (index, name) in _identities) { pi.Value = index; pn.Value = name; cmd.ExecuteNonQuery(); }
    }

    private void WriteWorkers(SqliteTransaction tx)
    {
        if (_workers.Count == 0) return;
        using var cmd = Command("INSERT OR IGNORE INTO workers(idx, name, records, sum_loss) VALUES ($i, $n, 0, 0);", tx);
        var pi = cmd.Parameters.Add("$i", SqliteType.Integer);
        var pn = cmd.Parameters.Add("$n", SqliteType.Text);
        foreach (var (index, name) in _workers) { pi.Value = index; pn.Value = name; cmd.ExecuteNonQuery(); }
    }

    private void WriteSamples(SqliteTransaction tx)
    {
        if (_sampleRows.Count == 0) return;
        using var cmd = Command("""
            INSERT INTO samples(dense, id, identity, path, registered, status, status_cycle, reason) VALUES ($d, $id, $g, $p, $r, $s, $c, $why)
            ON CONFLICT(dense) DO UPDATE SET id = excluded.id, identity = excluded.identity, path = excluded.path, registered = excluded.registered,
                status = excluded.status, status_cycle = excluded.status_cycle, reason = excluded.reason;
            """, tx);
        var pd = cmd.Parameters.Add("$d", SqliteType.Integer);
        var pid = cmd.Parameters.Add("$id", SqliteType.Integer);
        var pg = cmd.Parameters.Add("$g", SqliteType.Integer);
        var pp = cmd.Parameters.Add("$p", SqliteType.Text);
        var pr = cmd.Parameters.Add("$r", SqliteType.Integer);
        var ps = cmd.Parameters.Add("$s", SqliteType.Integer);
        var pc = cmd.Parameters.Add("$c", SqliteType.Integer);
        var pw = cmd.Parameters.Add("$why", SqliteType.Text);
        cmd.Prepare();
        foreach (var row in _sampleRows.Values.OrderBy(r => r.Dense))
        {
            pd.Value = row.Dense; pid.Value = row.Id; pg.Value = row.Identity; pp.Value = row.Path; pr.Value = row.Registered ? 1 : 0;
            ps.Value = (int)row.Status; pc.Value = row.StatusCycle; pw.Value = row.Reason;
            cmd.ExecuteNonQuery();
        }
    }

    private void WriteProbes(SqliteTransaction tx)
    {
        if (_probes.Count == 0) return;
        using var cmd = Command("INSERT INTO probes(seq, worker, cycle, step, ids, own, other) VALUES ($s, $w, $c, $t, $i, $o, $x);", tx);
        var ps = cmd.Parameters.Add("$s", SqliteType.Integer);
        var pw = cmd.Parameters.Add("$w", SqliteType.Integer);
        var pc = cmd.Parameters.Add("$c", SqliteType.Integer);
        var pt = cmd.Parameters.Add("$t", SqliteType.Integer);
        var pi = cmd.Parameters.Add("$i", SqliteType.Blob);
        var po = cmd.Parameters.Add("$o", SqliteType.Blob);
        var px = cmd.Parameters.Add("$x", SqliteType.Blob);
        foreach (var (seq, worker, r) in _probes)
        {
            ps.Value = seq; pw.Value = worker; pc.Value = r.Cycle; pt.Value = r.Step;
            pi.Value = MemoryMarshal.AsBytes(r.SampleIds.AsSpan()).ToArray();
            po.Value = MemoryMarshal.AsBytes(r.OwnLosses.AsSpan()).ToArray();
            px.Value = MemoryMarshal.AsBytes(r.OtherLosses.AsSpan()).ToArray();
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>A stored worker index's name ("worker-N" for an index the workers table does not hold).</summary>
    private static string WorkerName(IReadOnlyList<string> workers, int index) => index >= 0 && index < workers.Count ? workers[index] : $"worker-{index}";

    /// <summary>The raw identity probes after <paramref name="seq"/>, in order (for replay on top of a snapshot).</summary>
    internal IEnumerable<(long Seq, int Worker, ProbeReport Report)> ReadProbesAfter(long seq, IReadOnlyList<string> workers)
    {
        if (!_hasProbes) yield break;
        using var cmd = Command("SELECT seq, worker, cycle, step, ids, own, other FROM probes WHERE seq > $s ORDER BY seq;");
        cmd.Parameters.AddWithValue("$s", seq);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            int worker = r.GetInt32(1);
            yield return (r.GetInt64(0), worker, new ProbeReport(WorkerName(workers, worker), r.GetInt64(2), r.GetInt64(3),
                MemoryMarshal.Cast<byte, int>((byte[])r.GetValue(4)).ToArray(), MemoryMarshal.Cast<byte, float>((byte[])r.GetValue(5)).ToArray(),
                MemoryMarshal.Cast<byte, float>((byte[])r.GetValue(6)).ToArray()));
        }
    }

    private void WriteReports(SqliteTransaction tx)
    {
        if (_reports.Count == 0) return;
        using var cmd = Command("INSERT OR REPLACE INTO reports(seq, worker, cycle, step, expected, ids, losses) VALUES ($q, $w, $c, $s, $e, $ids, $l);", tx);
        var pq = cmd.Parameters.Add("$q", SqliteType.Integer);
        var pw = cmd.Parameters.Add("$w", SqliteType.Integer);
        var pc = cmd.Parameters.Add("$c", SqliteType.Integer);
        var ps = cmd.Parameters.Add("$s", SqliteType.Integer);
        var pe = cmd.Parameters.Add("$e", SqliteType.Integer);
        var pids = cmd.Parameters.Add("$ids", SqliteType.Blob);
        var pl = cmd.Parameters.Add("$l", SqliteType.Blob);
        cmd.Prepare();
        foreach (var (seq, worker, r) in _reports)
        {
            pq.Value = seq; pw.Value = worker; pc.Value = r.Cycle; ps.Value = r.Step; pe.Value = r.ReportsInStep;
            pids.Value = MemoryMarshal.AsBytes(r.SampleIds.AsSpan()).ToArray();
            pl.Value = MemoryMarshal.AsBytes(r.Losses.AsSpan()).ToArray();
            cmd.ExecuteNonQuery();
        }
    }

    private void WriteSteps(SqliteTransaction tx)
    {
        if (_steps.Count == 0) return;
        using var cmd = Command("INSERT INTO steps(step, cycle, reports, expected, records, median, mean, complete, late, last_seq) VALUES ($s, $c, $r, $e, $n, $m, $a, $ok, $late, $q);", tx);
        var ps = cmd.Parameters.Add("$s", SqliteType.Integer);
        var pc = cmd.Parameters.Add("$c", SqliteType.Integer);
        var pr = cmd.Parameters.Add("$r", SqliteType.Integer);
        var pe = cmd.Parameters.Add("$e", SqliteType.Integer);
        var pn = cmd.Parameters.Add("$n", SqliteType.Integer);
        var pm = cmd.Parameters.Add("$m", SqliteType.Real);
        var pa = cmd.Parameters.Add("$a", SqliteType.Real);
        var pok = cmd.Parameters.Add("$ok", SqliteType.Integer);
        var plate = cmd.Parameters.Add("$late", SqliteType.Integer);
        var pq = cmd.Parameters.Add("$q", SqliteType.Integer);
        cmd.Prepare();
        foreach (var s in _steps)
        {
            ps.Value = s.Step; pc.Value = s.Cycle; pr.Value = s.Reports; pe.Value = s.Expected; pn.Value = s.Records;
            pm.Value = float.IsFinite(s.Median) ? s.Median : DBNull.Value;
            pa.Value = float.IsFinite(s.Mean) ? s.Mean : DBNull.Value;
            pok.Value = s.Complete ? 1 : 0; plate.Value = s.Late ? 1 : 0; pq.Value = s.LastSeq;
            cmd.ExecuteNonQuery();
        }
    }

    private void WriteEvents(SqliteTransaction tx)
    {
        if (_events.Count == 0) return;
        using var cmd = Command("INSERT INTO events(seq, dense, cycle, step, from_status, to_status, reason, at) VALUES ($q, $d, $c, $s, $f, $t, $r, $at);", tx);
        var pq = cmd.Parameters.Add("$q", SqliteType.Integer);
        var pd = cmd.Parameters.Add("$d", SqliteType.Integer);
        var pc = cmd.Parameters.Add("$c", SqliteType.Integer);
        var ps = cmd.Parameters.Add("$s", SqliteType.Integer);
        var pf = cmd.Parameters.Add("$f", SqliteType.Integer);
        var pt = cmd.Parameters.Add("$t", SqliteType.Integer);
        var pr = cmd.Parameters.Add("$r", SqliteType.Text);
        var pat = cmd.Parameters.Add("$at", SqliteType.Text);
        cmd.Prepare();
        foreach (var e in _events)
        {
            pq.Value = e.Seq; pd.Value = e.Dense; pc.Value = e.Cycle; ps.Value = e.Step; pf.Value = (int)e.From; pt.Value = (int)e.To; pr.Value = e.Reason; pat.Value = Iso(e.At);
            cmd.ExecuteNonQuery();
        }
    }

    private void WriteQuarantines(SqliteTransaction tx)
    {
        if (_quarantines.Count == 0) return;
        using var cmd = Command("""
            INSERT OR REPLACE INTO quarantine(qid, dense, sample_id, identity, path, cycle, step, action, original_path, current_path, sha256, reason, at, restored_cycle, restored_at)
            VALUES ($q, $d, $id, $g, $p, $c, $s, $a, $o, $cur, $h, $r, $at, $rc, $rat);
            """, tx);
        foreach (var q in _quarantines)
        {
            cmd.Parameters.Clear();
            cmd.Parameters.AddWithValue("$q", q.Id);
            cmd.Parameters.AddWithValue("$d", q.Dense);
            cmd.Parameters.AddWithValue("$id", q.SampleId);
            cmd.Parameters.AddWithValue("$g", q.Identity);
            cmd.Parameters.AddWithValue("$p", q.Path);
            cmd.Parameters.AddWithValue("$c", q.Cycle);
            cmd.Parameters.AddWithValue("$s", q.Step);
            cmd.Parameters.AddWithValue("$a", ActionName(q.Action));
            cmd.Parameters.AddWithValue("$o", q.OriginalPath);
            cmd.Parameters.AddWithValue("$cur", q.CurrentPath);
            cmd.Parameters.AddWithValue("$h", q.Sha256);
            cmd.Parameters.AddWithValue("$r", q.Reason);
            cmd.Parameters.AddWithValue("$at", Iso(q.At));
            cmd.Parameters.AddWithValue("$rc", q.RestoredCycle);
            cmd.Parameters.AddWithValue("$rat", q.RestoredAt is { } t ? Iso(t) : DBNull.Value);
            cmd.ExecuteNonQuery();
        }
    }

    private void WriteCycles(SqliteTransaction tx)
    {
        if (_cycles.Count == 0) return;
        using (var cmd = Command("""
            INSERT OR REPLACE INTO cycles(seq, cycle, step, closed_at, observed, decided, options, prune, refeed, weights, flagged, awaiting, restored)
            VALUES ($q, $c, $s, $at, $o, $d, $opt, $p, $r, $w, $f, $a, $x);
            """, tx))
        {
            foreach (var (seq, cycle, step, at, observed, decided, options, d) in _cycles)
            {
                cmd.Parameters.Clear();
                cmd.Parameters.AddWithValue("$q", seq);
                cmd.Parameters.AddWithValue("$opt", options);
                cmd.Parameters.AddWithValue("$c", cycle);
                cmd.Parameters.AddWithValue("$s", step);
                cmd.Parameters.AddWithValue("$at", Iso(at));
                cmd.Parameters.AddWithValue("$o", observed);
                cmd.Parameters.AddWithValue("$d", decided ? 1 : 0);
                cmd.Parameters.AddWithValue("$p", Bytes(d.Prune));
                cmd.Parameters.AddWithValue("$r", Bytes(d.Refeed));
                cmd.Parameters.AddWithValue("$w", MemoryMarshal.AsBytes(d.RefeedWeights.AsSpan()).ToArray());
                cmd.Parameters.AddWithValue("$f", Bytes(d.Flagged));
                cmd.Parameters.AddWithValue("$a", Bytes(d.AwaitingReview));
                cmd.Parameters.AddWithValue("$x", Bytes(d.Restored));
                cmd.ExecuteNonQuery();
            }
        }
        using var rows = Command("INSERT OR REPLACE INTO cycle_samples(chunk, cycle, data) VALUES ($k, $c, $data);", tx);
        var pk = rows.Parameters.Add("$k", SqliteType.Integer);
        var pc = rows.Parameters.Add("$c", SqliteType.Integer);
        var pdata = rows.Parameters.Add("$data", SqliteType.Blob);
        rows.Prepare();
        foreach (var (cycle, entries) in _cycleRows)
        {
            // Group by block of 4096 samples (a counting sort: no comparisons); within a block the order does not matter.
            int maxChunk = 0;
            foreach (var e in entries) maxChunk = Math.Max(maxChunk, e.Dense >> ChunkShift);
            var start = new int[maxChunk + 2];
            foreach (var e in entries) start[(e.Dense >> ChunkShift) + 1]++;
            for (int k = 0; k <= maxChunk; k++) start[k + 1] += start[k];
            var blocks = new byte[maxChunk + 1][];
            for (int chunk = 0; chunk <= maxChunk; chunk++) blocks[chunk] = new byte[(start[chunk + 1] - start[chunk]) * CycleEntryBytes];
            var fill = new int[maxChunk + 1];
            foreach (var e in entries)
            {
                int chunk = e.Dense >> ChunkShift;
                WriteCycleEntry(blocks[chunk].AsSpan(fill[chunk]++ * CycleEntryBytes, CycleEntryBytes), e);
            }
            for (int chunk = 0; chunk <= maxChunk; chunk++)
            {
                if (blocks[chunk].Length == 0) continue;
                pk.Value = chunk; pc.Value = cycle; pdata.Value = blocks[chunk];
                rows.ExecuteNonQuery();
            }
        }
    }

    /// <summary>12 bytes: offset in its block, observations, mean relative loss, mean loss and z as half floats (3 significant digits: a history to read, not to compute with), flags, status.</summary>
    private static void WriteCycleEntry(Span<byte> b, in CycleSampleRow e)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(e.Dense & ((1 << ChunkShift) - 1)));
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], (ushort)Math.Min(e.Observations, ushort.MaxValue));
        BinaryPrimitives.WriteHalfLittleEndian(b[4..], (Half)e.MeanRelative);
        BinaryPrimitives.WriteHalfLittleEndian(b[6..], (Half)e.MeanLoss);
        BinaryPrimitives.WriteHalfLittleEndian(b[8..], (Half)e.Z);
        b[10] = (byte)e.Flags;
        b[11] = e.Status;
    }

    private void WriteSnapshot(LedgerSnapshot s, SqliteTransaction tx)
    {
        bool full = s.FullStats || _statsEntriesSinceFull + s.Dirty.Count > Math.Max(s.Count, 4096);
        using (var cmd = Command("INSERT INTO sample_stats(full, first, count, idx, counters, policy, probe) VALUES ($f, $first, $n, $idx, $c, $p, $q);", tx))
        {
            var pf = cmd.Parameters.Add("$f", SqliteType.Integer);
            var pfirst = cmd.Parameters.Add("$first", SqliteType.Integer);
            var pn = cmd.Parameters.Add("$n", SqliteType.Integer);
            var pidx = cmd.Parameters.Add("$idx", SqliteType.Blob);
            var pc = cmd.Parameters.Add("$c", SqliteType.Blob);
            var pp = cmd.Parameters.Add("$p", SqliteType.Blob);
            var pq = cmd.Parameters.Add("$q", SqliteType.Blob);
            if (full)
            {
                Exec("DELETE FROM sample_stats;", tx);
                for (int first = 0; first < s.Count; first += FullPage)
                {
                    int n = Math.Min(FullPage, s.Count - first);
                    pf.Value = 1; pfirst.Value = first; pn.Value = n; pidx.Value = DBNull.Value;
                    pc.Value = MemoryMarshal.AsBytes(s.Counters.AsSpan(first, n)).ToArray();
                    pp.Value = MemoryMarshal.AsBytes(s.Policy.AsSpan(first, n)).ToArray();
                    pq.Value = MemoryMarshal.AsBytes(s.Probes.AsSpan(first, n)).ToArray();
                    cmd.ExecuteNonQuery();
                }
                _statsEntriesSinceFull = 0;
            }
            else if (s.Dirty.Count > 0)
            {
                int n = s.Dirty.Count;
                var idx = new int[n];
                var counters = new SampleCounters[n];
                var policy = new SamplePolicyState[n];
                var probes = new ProbeCounters[n];
                for (int i = 0; i < n; i++)
                {
                    int d = s.Dirty[i];
                    idx[i] = d; counters[i] = s.Counters[d]; policy[i] = s.Policy[d]; probes[i] = s.Probes[d];
                }
                pf.Value = 0; pfirst.Value = 0; pn.Value = n;
                pidx.Value = MemoryMarshal.AsBytes(idx.AsSpan()).ToArray();
                pc.Value = MemoryMarshal.AsBytes(counters.AsSpan()).ToArray();
                pp.Value = MemoryMarshal.AsBytes(policy.AsSpan()).ToArray();
                pq.Value = MemoryMarshal.AsBytes(probes.AsSpan()).ToArray();
                cmd.ExecuteNonQuery();
                _statsEntriesSinceFull += n;
            }
        }
        using (var cmd = Command("INSERT OR REPLACE INTO curves(name, kind, data) VALUES ($n, $k, $d);", tx))
        {
            var pn = cmd.Parameters.Add("$n", SqliteType.Text);
            var pk = cmd.Parameters.Add("$k", SqliteType.Integer);
            var pd = cmd.Parameters.Add("$d", SqliteType.Blob);
            foreach (var (name, kind, data) in s.Curves) { pn.Value = name; pk.Value = kind; pd.Value = data; cmd.ExecuteNonQuery(); }
        }
        using (var cmd = Command("INSERT OR REPLACE INTO workers(idx, name, records, sum_loss) VALUES ($i, $n, $r, $s);", tx))
        {
            var pi = cmd.Parameters.Add("$i", SqliteType.Integer);
            var pn = cmd.Parameters.Add("$n", SqliteType.Text);
            var pr = cmd.Parameters.Add("$r", SqliteType.Integer);
            var ps = cmd.Parameters.Add("$s", SqliteType.Real);
            foreach (var (index, name, records, sum) in s.Workers) { pi.Value = index; pn.Value = name; pr.Value = records; ps.Value = sum; cmd.ExecuteNonQuery(); }
        }
        using (var cmd = Command("INSERT OR REPLACE INTO meta(key, value) VALUES ($k, $v);", tx))
        {
            var pk = cmd.Parameters.Add("$k", SqliteType.Text);
            var pv = cmd.Parameters.Add(new SqliteParameter { ParameterName = "$v" });
            pk.Value = "seq"; pv.Value = s.Seq; cmd.ExecuteNonQuery();
            pk.Value = "count"; pv.Value = s.Count; cmd.ExecuteNonQuery();
            foreach (var (key, value) in s.Meta) { pk.Value = key; pv.Value = value; cmd.ExecuteNonQuery(); }
        }
    }

    // ------------------------------------------------------------------ reading

    /// <summary>Reads the newest snapshot and every fact it needs.</summary>
    internal LoadedLedger Load()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var result = new LoadedLedger();
        using (var cmd = Command("SELECT key, value FROM meta;"))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) result.Meta[r.GetString(0)] = r.GetValue(1);
        if (result.Meta.TryGetValue("seq", out var seq)) result.Seq = Convert.ToInt64(seq, CultureInfo.InvariantCulture);
        int count = result.Meta.TryGetValue("count", out var c) ? Convert.ToInt32(c, CultureInfo.InvariantCulture) : 0;

        using (var cmd = Command("SELECT idx, name FROM identities ORDER BY idx;"))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
            {
                int idx = r.GetInt32(0);
                if (idx != result.Identities.Count) throw Corrupt($"identity {idx} out of order");
                result.Identities.Add(r.GetString(1));
            }
        using (var cmd = Command("SELECT idx, name, records, sum_loss FROM workers ORDER BY idx;"))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
            {
                if (r.GetInt32(0) != result.Workers.Count) throw Corrupt($"worker {r.GetInt32(0)} out of order");
                result.Workers.Add((r.GetString(1), r.GetInt64(2), r.GetDouble(3)));
            }
        using (var cmd = Command("SELECT dense, id, identity, path, registered, status, status_cycle, reason FROM samples ORDER BY dense;"))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
            {
                int dense = r.GetInt32(0);
                if (dense != result.Samples.Count) throw Corrupt($"sample row {dense} out of order");
                int status = r.GetInt32(5);
                if (status is < 0 or > (int)SampleStatus.Restored) throw Corrupt($"sample row {dense} has status {status}");
                result.Samples.Add(new SampleInfoRow(dense, r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetInt32(4) != 0, (SampleStatus)status, r.GetInt64(6), r.GetString(7)));
            }
        int n = Math.Max(count, result.Samples.Count);
        var counters = new SampleCounters[n];
        var policy = new SamplePolicyState[n];
        policy.AsSpan().Fill(SamplePolicyState.Initial);
        var probeStats = new ProbeCounters[n];
        probeStats.AsSpan().Fill(ProbeCounters.Initial);
        for (int i = 0; i < result.Samples.Count; i++) counters[i].Identity = result.Samples[i].Identity;
        using (var cmd = Command(_hasProbes
            ? "SELECT full, first, count, idx, counters, policy, probe FROM sample_stats ORDER BY version;"
            : "SELECT full, first, count, idx, counters, policy, NULL FROM sample_stats ORDER BY version;"))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
            {
                bool full = r.GetInt32(0) != 0;
                int first = r.GetInt32(1), m = r.GetInt32(2);
                var cBytes = (byte[])r.GetValue(4);
                var pBytes = (byte[])r.GetValue(5);
                var cs = MemoryMarshal.Cast<byte, SampleCounters>(cBytes);
                var ps = MemoryMarshal.Cast<byte, SamplePolicyState>(pBytes);
                if (cs.Length != m || ps.Length != m) throw Corrupt($"sample_stats row of {m} entries has {cBytes.Length} + {pBytes.Length} bytes");
                var qBytes = r.IsDBNull(6) ? null : (byte[])r.GetValue(6);
                var qs = qBytes == null ? ReadOnlySpan<ProbeCounters>.Empty : MemoryMarshal.Cast<byte, ProbeCounters>(qBytes);
                if (qBytes != null && qs.Length != m) throw Corrupt($"sample_stats row of {m} entries has {qBytes.Length} bytes of probe statistics");
                if (full)
                {
                    if (first < 0 || first + m > n) throw Corrupt($"sample_stats page {first}+{m} is beyond {n} samples");
                    cs.CopyTo(counters.AsSpan(first));
                    ps.CopyTo(policy.AsSpan(first));
                    if (qBytes != null) qs.CopyTo(probeStats.AsSpan(first));
                }
                else
                {
                    var idx = MemoryMarshal.Cast<byte, int>((byte[])r.GetValue(3));
                    if (idx.Length != m) throw Corrupt("sample_stats delta index length");
                    for (int i = 0; i < m; i++)
                    {
                        if ((uint)idx[i] >= (uint)n) throw Corrupt($"sample_stats delta names sample {idx[i]} of {n}");
                        counters[idx[i]] = cs[i];
                        policy[idx[i]] = ps[i];
                        if (qBytes != null) probeStats[idx[i]] = qs[i];
                    }
                    result.StatsEntries += m;
                }
                result.StatsRows++;
            }
        result.Counters = counters;
        result.Policy = policy;
        result.Probes = probeStats;
        _statsEntriesSinceFull = result.StatsEntries;

        using (var cmd = Command("SELECT name, kind, data FROM curves;"))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) result.Curves.Add((r.GetString(0), r.GetInt32(1), (byte[])r.GetValue(2)));
        result.Quarantines.AddRange(ReadQuarantines("SELECT * FROM quarantine ORDER BY qid;"));
        using (var cmd = Command("SELECT max(m), sum(n) FROM (SELECT max(seq) AS m, count(*) AS n FROM reports UNION ALL SELECT max(seq), 0 FROM cycles UNION ALL SELECT max(seq), 0 FROM events" + (_hasProbes ? " UNION ALL SELECT max(seq), 0 FROM probes" : "") + ");"))
        using (var r = cmd.ExecuteReader())
            if (r.Read())
            {
                result.MaxSeq = r.IsDBNull(0) ? -1 : r.GetInt64(0);
                result.ReportCount = r.GetInt64(1);
            }
        return result;
    }

    /// <summary>The raw reports after <paramref name="seq"/>, in order (for replay on top of a snapshot).</summary>
    internal IEnumerable<(long Seq, int Worker, LossReport Report)> ReadReportsAfter(long seq, IReadOnlyList<string> workers)
    {
        using var cmd = Command("SELECT seq, worker, cycle, step, expected, ids, losses FROM reports WHERE seq > $s ORDER BY seq;");
        cmd.Parameters.AddWithValue("$s", seq);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            int worker = r.GetInt32(1);
            yield return (r.GetInt64(0), worker, new LossReport(WorkerName(workers, worker), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4),
                MemoryMarshal.Cast<byte, int>((byte[])r.GetValue(5)).ToArray(), MemoryMarshal.Cast<byte, float>((byte[])r.GetValue(6)).ToArray()));
        }
    }

    /// <summary>Every raw loss record in ledger.db: per report, its worker index, cycle, step, sample ids and losses.</summary>
    public IEnumerable<StoredReport> ReadReports()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var cmd = Command("SELECT seq, worker, cycle, step, expected, ids, losses FROM reports ORDER BY seq;");
        using var r = cmd.ExecuteReader();
        while (r.Read())
            yield return new StoredReport(r.GetInt64(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4),
                MemoryMarshal.Cast<byte, int>((byte[])r.GetValue(5)).ToArray(), MemoryMarshal.Cast<byte, float>((byte[])r.GetValue(6)).ToArray());
    }

    /// <summary>The workers' names by index.</summary>
    public IReadOnlyList<string> ReadWorkerNames()
    {
        var names = new List<string>();
        using var cmd = Command("SELECT name FROM workers ORDER BY idx;");
        using var r = cmd.ExecuteReader();
        while (r.Read()) names.Add(r.GetString(0));
        return names;
    }

    /// <summary>The steps finalized so far (step, reports arrived, reports announced, complete).</summary>
    internal List<StepRow> ReadSteps()
    {
        var rows = new List<StepRow>();
        using var cmd = Command("SELECT step, cycle, reports, expected, records, median, mean, complete, late, last_seq FROM steps ORDER BY rowid;");
        using var r = cmd.ExecuteReader();
        while (r.Read())
            rows.Add(new StepRow(r.GetInt64(0), r.GetInt64(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4),
                r.IsDBNull(5) ? float.NaN : r.GetFloat(5), r.IsDBNull(6) ? float.NaN : r.GetFloat(6), r.GetInt32(7) != 0, r.GetInt32(8) != 0, r.GetInt64(9)));
        return rows;
    }

    /// <summary>One sample's rows of every closed cycle it was seen in, oldest first.</summary>
    internal List<(long Cycle, CycleSampleRow Row)> ReadSampleCycles(int dense)
    {
        var result = new List<(long, CycleSampleRow)>();
        int chunk = dense >> ChunkShift;
        ushort offset = (ushort)(dense & ((1 << ChunkShift) - 1));
        using var cmd = Command("SELECT cycle, data FROM cycle_samples WHERE chunk = $k ORDER BY cycle;");
        cmd.Parameters.AddWithValue("$k", chunk);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var data = (byte[])r.GetValue(1);
            for (int at = 0; at + CycleEntryBytes <= data.Length; at += CycleEntryBytes)
            {
                var b = data.AsSpan(at, CycleEntryBytes);
                if (BinaryPrimitives.ReadUInt16LittleEndian(b) == offset)
                {
                    result.Add((r.GetInt64(0), new CycleSampleRow(dense, BinaryPrimitives.ReadUInt16LittleEndian(b[2..]),
                        (float)BinaryPrimitives.ReadHalfLittleEndian(b[4..]), (float)BinaryPrimitives.ReadHalfLittleEndian(b[6..]),
                        (float)BinaryPrimitives.ReadHalfLittleEndian(b[8..]), float.NaN, (CycleFlags)b[10], b[11])));
                    break;
                }
            }
        }
        return result;
    }

    /// <summary>One sample's status changes, oldest first.</summary>
    internal List<StatusEvent> ReadEvents(int dense) => ReadEventsWhere("dense = $v", dense);

    /// <summary>The status changes made by log entries after <paramref name="seq"/>, in order (for replay).</summary>
    internal List<StatusEvent> ReadEventsAfter(long seq) => ReadEventsWhere("seq > $v", seq);

    private List<StatusEvent> ReadEventsWhere(string where, long value)
    {
        var result = new List<StatusEvent>();
        using var cmd = Command($"SELECT seq, dense, cycle, step, from_status, to_status, reason, at FROM events WHERE {where} ORDER BY rowid;");
        cmd.Parameters.AddWithValue("$v", value);
        using var r = cmd.ExecuteReader();
        while (r.Read())
            result.Add(new StatusEvent(r.GetInt64(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), (SampleStatus)r.GetInt32(4), (SampleStatus)r.GetInt32(5),
                r.GetString(6), ParseIso(r.GetString(7))));
        return result;
    }

    /// <summary>The cycle closes after log entry <paramref name="seq"/> (all with -1), in order: when, with which policy options, and their directives.</summary>
    internal List<(long Seq, long Cycle, long Step, string Options, CurationDirectives Directives)> ReadCycles(long seq = -1)
    {
        var result = new List<(long, long, long, string, CurationDirectives)>();
        using var cmd = Command("SELECT seq, cycle, step, options, prune, refeed, weights, flagged, awaiting, restored FROM cycles WHERE seq > $s ORDER BY seq;");
        cmd.Parameters.AddWithValue("$s", seq);
        using var r = cmd.ExecuteReader();
        while (r.Read())
            result.Add((r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), new CurationDirectives(r.GetInt64(1), Ints(r, 4), Ints(r, 5),
                MemoryMarshal.Cast<byte, float>((byte[])r.GetValue(6)).ToArray(), Ints(r, 7), Ints(r, 8), Ints(r, 9))));
        return result;
    }

    /// <summary>The newest close's directives, or null before the first.</summary>
    internal CurationDirectives? ReadLastDirectives()
    {
        using var cmd = Command("SELECT max(seq) FROM cycles;");
        var max = cmd.ExecuteScalar();
        if (max is null or DBNull) return null;
        long seq = Convert.ToInt64(max, CultureInfo.InvariantCulture);
        return ReadCycles(seq - 1).FirstOrDefault().Directives;
    }

    private List<QuarantineRecord> ReadQuarantines(string sql)
    {
        var result = new List<QuarantineRecord>();
        using var cmd = Command(sql);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var action = r.GetString(r.GetOrdinal("action")) == "move" ? QuarantineAction.Move : QuarantineAction.Exclude;
            int rat = r.GetOrdinal("restored_at");
            result.Add(new QuarantineRecord(r.GetInt64(r.GetOrdinal("qid")), r.GetInt32(r.GetOrdinal("dense")), r.GetInt32(r.GetOrdinal("sample_id")),
                r.GetString(r.GetOrdinal("identity")), r.GetString(r.GetOrdinal("path")), r.GetInt64(r.GetOrdinal("cycle")), r.GetInt64(r.GetOrdinal("step")),
                action, r.GetString(r.GetOrdinal("original_path")), r.GetString(r.GetOrdinal("current_path")), r.GetString(r.GetOrdinal("sha256")),
                r.GetString(r.GetOrdinal("reason")), ParseIso(r.GetString(r.GetOrdinal("at"))), r.GetInt64(r.GetOrdinal("restored_cycle")),
                r.IsDBNull(rat) ? null : ParseIso(r.GetString(rat))));
        }
        return result;
    }

    // ------------------------------------------------------------------ helpers

    internal static string ActionName(QuarantineAction action) => action == QuarantineAction.Move ? "move" : "exclude";

    internal static string Iso(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static DateTime ParseIso(string s) =>
        DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : DateTime.MinValue;

    private static byte[] Bytes(int[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static int[] Ints(SqliteDataReader r, int column) => MemoryMarshal.Cast<byte, int>((byte[])r.GetValue(column)).ToArray();

    private FaceClusterException Corrupt(string what) => new($"the ledger {DatabasePath} is damaged: {what}");

    private void ThrowIfReadOnly()
    {
        if (ReadOnly) throw new InvalidOperationException($"the ledger {DatabasePath} is open read-only");
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    private void Exec(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = Command(sql, tx);
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = Command(sql, tx);
        return cmd.ExecuteScalar();
    }

    /// <summary>Closes the database (without flushing: the owner flushes first). Never throws.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _connection.Dispose();
        }
        catch (SqliteException e)
        {
            _log.LogWarning("Closing the ledger {Path} failed: {Message}", DatabasePath, e.Message);
        }
    }
}
