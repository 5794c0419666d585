
namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>
/// The tables of ledger.db as a list of migrations, each building on the one before; PRAGMA user_version is the
/// number of the last one applied. A new file gets them all, an older one the ones it lacks, in one transaction.
/// To change the schema, add a migration: never edit one that has shipped.
/// </summary>
internal static class LedgerSchema
{
    private sealed record Migration(int Version, string What, string Sql);

    private static readonly Migration[] Migrations =
    [
        new(1, "the first", """
            CREATE TABLE meta(rowid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value);
            CREATE TABLE identities(idx INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE workers(idx INTEGER PRIMARY KEY, name TEXT NOT NULL, records INTEGER NOT NULL, sum_loss REAL NOT NULL);
            CREATE TABLE samples(dense INTEGER PRIMARY KEY, id INTEGER NOT NULL, identity INTEGER NOT NULL, path TEXT NOT NULL,
                registered INTEGER NOT NULL, status INTEGER NOT NULL, status_cycle INTEGER NOT NULL, reason TEXT NOT NULL);
            CREATE INDEX samples_id ON samples(id);
            CREATE TABLE sample_stats(version INTEGER PRIMARY KEY AUTOINCREMENT, full INTEGER NOT NULL, first INTEGER NOT NULL,
                count INTEGER NOT NULL, idx BLOB, counters BLOB NOT NULL, policy BLOB NOT NULL);
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
            """),
        new(2, "identity probes", """
            ALTER TABLE sample_stats ADD COLUMN probe BLOB;
            CREATE TABLE probes(seq INTEGER PRIMARY KEY, worker INTEGER NOT NULL, cycle INTEGER NOT NULL, step INTEGER NOT NULL,
                ids BLOB NOT NULL, own BLOB NOT NULL, other BLOB NOT NULL);
            """),
        new(3, "the journal of file moves in progress", """
            CREATE TABLE quarantine_moves(qid INTEGER PRIMARY KEY, from_path TEXT NOT NULL, to_path TEXT NOT NULL, sha256 TEXT NOT NULL);
            """),
        new(4, "the encoder's latent vectors of identity probes", """
            ALTER TABLE probes ADD COLUMN latent_width INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE probes ADD COLUMN latents BLOB;
            """),
    ];

    /// <summary>The version this build writes: its last migration.</summary>
    public static int Current => Migrations[^1].Version;

    /// <summary>The first version with the identity probes' tables (<c>probes</c>, <c>sample_stats.probe</c>).</summary>
    public const int ProbesSince = 2, LatentsSince = 4;

    /// <summary>Creates the tables of a new file, or applies the migrations an older one lacks; returns the version now.</summary>
    public static long CreateOrUpgrade(LedgerStore store, ILogger log)
    {
        using var tx = store.BeginTransaction();
        long version = Version(store, tx);
        if (version == 0)
        {
            long tables = Convert.ToInt64(store.Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table';", tx), CultureInfo.InvariantCulture);
            if (tables > 0) throw new FaceClusterException($"{store.DatabasePath} is a SQLite database but not a FaceCluster ledger (tables without a schema version)");
        }
        foreach (var m in Migrations.Where(m => m.Version > version))
        {
            store.Exec(m.Sql, tx);
            store.Exec($"PRAGMA user_version = {m.Version};", tx);
            if (version > 0) log.LogInformation("Ledger {Path}: upgraded from schema version {From} to {To} ({What})", store.DatabasePath, m.Version - 1, m.Version, m.What);
        }
        tx.Commit();
        return Current;
    }

    /// <summary>The version of a file opened for reading: a FaceCluster ledger this build can read (older ones are read as they are).</summary>
    public static long CheckReadable(LedgerStore store)
    {
        long version = Version(store, null);
        if (version == 0) throw new FaceClusterException($"{store.DatabasePath} is not a FaceCluster ledger (no schema version)");
        return version;
    }

    private static long Version(LedgerStore store, Microsoft.Data.Sqlite.SqliteTransaction? tx)
    {
        long version = Convert.ToInt64(store.Scalar("PRAGMA user_version;", tx), CultureInfo.InvariantCulture);
        if (version > Current)
            throw new FaceClusterException($"the ledger {store.DatabasePath} has schema version {version}; this build reads up to {Current}: use a newer facecluster", ExitCodes.VersionMismatch);
        return version;
    }
}
