using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>
/// The ledger's file: SQLite in RUNDIR/ledger.db (WAL, synchronous=NORMAL, exclusive locking so a second process
/// cannot write the same run). It opens the connection, brings the schema up to date (<see cref="LedgerSchema"/>),
/// and hands out the <see cref="Writer"/> (everything is buffered and written in one transaction per flush) and the
/// <see cref="Reader"/> (the newest snapshot and the log after it, and the queries' reads). What is stored and how:
/// docs/ARCHITECTURE.md ("The ledger's inside").
/// </summary>
public sealed class LedgerStore : IDisposable
{
    public const string FileName = "ledger.db";
    public static int SchemaVersion => LedgerSchema.Current;

    private readonly SqliteConnection _connection;
    private readonly ILogger _log;
    private bool _disposed;

    private LedgerStore(SqliteConnection connection, string path, bool readOnly, ILogger log)
    {
        _connection = connection;
        DatabasePath = path;
        ReadOnly = readOnly;
        _log = log;
        Writer = new LedgerWriter(this);
        Reader = new LedgerReader(this);
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    public bool ReadOnly { get; }

    /// <summary>Buffers what the ledger records and writes it at a flush.</summary>
    public LedgerWriter Writer { get; }

    /// <summary>Reads what ledger.db holds.</summary>
    public LedgerReader Reader { get; }

    /// <summary>The schema version of the file as opened (a read-only ledger of an older version is read as it is).</summary>
    internal long FileVersion { get; private set; }

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
        return OpenFile(path, SqliteOpenMode.ReadWriteCreate, logger, store =>
        {
            store.Exec("PRAGMA locking_mode=EXCLUSIVE;");
            store.Exec("PRAGMA page_size=16384;"); // a new database only: rows carry BLOBs of a few KB
            string mode = Convert.ToString(store.Scalar("PRAGMA journal_mode=WAL;"), CultureInfo.InvariantCulture) ?? "";
            if (!mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
                throw new FaceClusterException($"the ledger {path} could not switch to WAL journaling (journal mode is '{mode}')");
            store.Exec("PRAGMA synchronous=NORMAL;");
            store.Exec("PRAGMA wal_autocheckpoint=16384;");
            store.FileVersion = LedgerSchema.CreateOrUpgrade(store, store._log);
        }, "is locked by another process (is a coordinator running this run?)", "cannot open the ledger");
    }

    /// <summary>Opens RUNDIR/ledger.db of a stopped run for queries only. A missing folder or file, or a run still holding it, is an error naming the path.</summary>
    public static LedgerStore OpenReadOnly(string runDir, ILogger? logger = null)
    {
        string dir = Path.GetFullPath(runDir);
        if (!Directory.Exists(dir)) throw new FaceClusterException($"the run folder {dir} does not exist");
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FaceClusterException($"the run folder {dir} has no ledger ({path} does not exist)");
        return OpenFile(path, SqliteOpenMode.ReadOnly, logger, store => store.FileVersion = LedgerSchema.CheckReadable(store),
            "is locked by another process (a running coordinator: ask it over its HTTP API instead)", "cannot read the ledger");
    }

    private static LedgerStore OpenFile(string path, SqliteOpenMode mode, ILogger? logger, Action<LedgerStore> prepare, string locked, string cannot)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = mode, Pooling = false, DefaultTimeout = 1,
        }.ToString());
        var store = new LedgerStore(connection, path, mode == SqliteOpenMode.ReadOnly, logger ?? NullLogger.Instance);
        try
        {
            connection.Open();
            prepare(store);
            return store;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6) // SQLITE_BUSY, SQLITE_LOCKED
        {
            store.Dispose();
            throw new FaceClusterException($"the ledger {path} {locked}", ExitCodes.Locked, e);
        }
        catch (SqliteException e)
        {
            store.Dispose();
            throw new FaceClusterException($"{cannot} {path}: {e.Message}", ExitCodes.UserError, e);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Reads the newest snapshot and every fact it needs (the writer continues its statistics from it).</summary>
    internal LoadedLedger Load()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var loaded = Reader.Load(_log);
        Writer.ContinueFrom(loaded);
        return loaded;
    }

    /// <summary>Copies the write-ahead log into the database file and truncates it (PRAGMA wal_checkpoint(TRUNCATE)).</summary>
    public void Checkpoint()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ReadOnly) return;
        Exec("PRAGMA wal_checkpoint(TRUNCATE);");
    }

    // ------------------------------------------------------------------ for the schema, the writer and the reader

    internal SqliteTransaction BeginTransaction()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _connection.BeginTransaction();
    }

    internal SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    internal void Exec(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = Command(sql, tx);
        cmd.ExecuteNonQuery();
    }

    internal object? Scalar(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = Command(sql, tx);
        return cmd.ExecuteScalar();
    }

    internal FaceClusterException Corrupt(string what) => new($"the ledger {DatabasePath} is damaged: {what}");

    internal void ThrowIfReadOnly()
    {
        if (ReadOnly) throw new InvalidOperationException($"the ledger {DatabasePath} is open read-only");
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
