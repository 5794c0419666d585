using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.State;
using Microsoft.Data.Sqlite;

namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>
/// Reads ledger.db: the newest snapshot with every fact it needs (<see cref="Load"/>), the log written after it
/// (reports, probes, cycle closes and status changes, for replay), and what the queries read from disk (a sample's
/// history). A damaged file is an error naming it, never a silent default.
/// </summary>
public sealed class LedgerReader
{
    private readonly LedgerStore _store;

    internal LedgerReader(LedgerStore store) => _store = store;

    private bool HasProbes => _store.FileVersion >= LedgerSchema.ProbesSince;
    private bool HasLatents => _store.FileVersion >= LedgerSchema.LatentsSince;

    /// <summary>Reads the newest snapshot and every fact it needs; a snapshot of another statistics layout is left out (see <see cref="LedgerFormat.StatsLayout"/>).</summary>
    internal LoadedLedger Load(ILogger log)
    {
        var result = new LoadedLedger();
        foreach (var (key, value) in Rows("SELECT key, value FROM meta;", r => (r.GetString(0), r.GetValue(1)))) result.Meta[key] = value;
        string layout = result.Meta.TryGetValue("stats_layout", out var l) ? Convert.ToString(l, CultureInfo.InvariantCulture) ?? "" : LedgerFormat.LegacyStatsLayout;
        result.StatsRebuilt = result.Meta.ContainsKey("seq") && layout != LedgerFormat.StatsLayout;
        if (result.StatsRebuilt)
        {
            log.LogWarning("Ledger {Path}: its snapshot holds the per-sample statistics of another build (layout {Stored}); rebuilding them from the raw log",
                _store.DatabasePath, layout);
            result.Meta.Clear();
        }
        if (result.Meta.TryGetValue("seq", out var seq)) result.Seq = Convert.ToInt64(seq, CultureInfo.InvariantCulture);
        int count = result.Meta.TryGetValue("count", out var c) ? Convert.ToInt32(c, CultureInfo.InvariantCulture) : 0;

        foreach (var (idx, name) in Rows("SELECT idx, name FROM identities ORDER BY idx;", r => (r.GetInt32(0), r.GetString(1))))
        {
            if (idx != result.Identities.Count) throw _store.Corrupt($"identity {idx} out of order");
            result.Identities.Add(name);
        }
        foreach (var (idx, name, records, sum) in Rows("SELECT idx, name, records, sum_loss FROM workers ORDER BY idx;", r => (r.GetInt32(0), r.GetString(1), r.GetInt64(2), r.GetDouble(3))))
        {
            if (idx != result.Workers.Count) throw _store.Corrupt($"worker {idx} out of order");
            result.Workers.Add(result.StatsRebuilt ? (name, 0, 0) : (name, records, sum));
        }
        foreach (var row in Rows("SELECT dense, id, identity, path, registered, status, status_cycle, reason FROM samples ORDER BY dense;", SampleRow))
        {
            if (row.Dense != result.Samples.Count) throw _store.Corrupt($"sample row {row.Dense} out of order");
            // A rebuild replays every status change from the start: the samples start where they started.
            result.Samples.Add(result.StatsRebuilt ? row with { Status = SampleStatus.Active, StatusCycle = -1, Reason = "" } : row);
        }
        if (!result.StatsRebuilt)
        {
            ReadStats(result, Math.Max(count, result.Samples.Count));
            result.Curves.AddRange(Rows("SELECT name, kind, data FROM curves;", r => (r.GetString(0), r.GetInt32(1), (byte[])r.GetValue(2))));
        }
        else ReadStats(result, result.Samples.Count, skipRows: true);
        result.Quarantines.AddRange(ReadQuarantines());
        result.MaxSeq = Convert.ToInt64(_store.Scalar("SELECT coalesce(max(m), -1) FROM (SELECT max(seq) AS m FROM reports UNION ALL SELECT max(seq) FROM cycles " +
            "UNION ALL SELECT max(seq) FROM events" + (HasProbes ? " UNION ALL SELECT max(seq) FROM probes" : "") + ");"), CultureInfo.InvariantCulture);
        return result;
    }

    private SampleInfoRow SampleRow(SqliteDataReader r)
    {
        int dense = r.GetInt32(0), status = r.GetInt32(5);
        if (status is < 0 or > (int)SampleStatus.Restored) throw _store.Corrupt($"sample row {dense} has status {status}");
        return new SampleInfoRow(dense, r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetInt32(4) != 0, (SampleStatus)status, r.GetInt64(6), r.GetString(7));
    }

    /// <summary>The per-sample statistics: the newest full rewrite, then every delta after it, in order.</summary>
    private void ReadStats(LoadedLedger result, int n, bool skipRows = false)
    {
        var counters = new SampleCounters[n];
        var policy = new SamplePolicyState[n];
        policy.AsSpan().Fill(SamplePolicyState.Initial);
        var probes = new ProbeCounters[n];
        probes.AsSpan().Fill(ProbeCounters.Initial);
        for (int i = 0; i < result.Samples.Count; i++) counters[i].Identity = result.Samples[i].Identity;
        (result.Counters, result.Policy, result.Probes) = (counters, policy, probes);
        if (skipRows) return;
        using var cmd = _store.Command(
            $"SELECT full, first, count, idx, counters, policy, {(HasProbes ? "probe" : "NULL")} FROM sample_stats ORDER BY version;");
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            bool full = r.GetInt32(0) != 0;
            int first = r.GetInt32(1), m = r.GetInt32(2);
            var cBytes = (byte[])r.GetValue(4);
            var pBytes = (byte[])r.GetValue(5);
            var cs = LedgerFormat.View<SampleCounters>(cBytes);
            var ps = LedgerFormat.View<SamplePolicyState>(pBytes);
            if (cs.Length != m || ps.Length != m) throw _store.Corrupt($"sample_stats row of {m} entries has {cBytes.Length} + {pBytes.Length} bytes");
            var qBytes = r.IsDBNull(6) ? null : (byte[])r.GetValue(6);
            var qs = qBytes == null ? ReadOnlySpan<ProbeCounters>.Empty : LedgerFormat.View<ProbeCounters>(qBytes);
            if (qBytes != null && qs.Length != m) throw _store.Corrupt($"sample_stats row of {m} entries has {qBytes.Length} bytes of probe statistics");
            if (full)
            {
                if (first < 0 || first + m > n) throw _store.Corrupt($"sample_stats page {first}+{m} is beyond {n} samples");
                cs.CopyTo(counters.AsSpan(first));
                ps.CopyTo(policy.AsSpan(first));
                if (qBytes != null) qs.CopyTo(probes.AsSpan(first));
                continue;
            }
            var idx = LedgerFormat.View<int>((byte[])r.GetValue(3));
            if (idx.Length != m) throw _store.Corrupt("sample_stats delta index length");
            for (int i = 0; i < m; i++)
            {
                if ((uint)idx[i] >= (uint)n) throw _store.Corrupt($"sample_stats delta names sample {idx[i]} of {n}");
                counters[idx[i]] = cs[i];
                policy[idx[i]] = ps[i];
                if (qBytes != null) probes[idx[i]] = qs[i];
            }
            result.StatsEntries += m;
        }
    }

    // ------------------------------------------------------------------ the log after a snapshot (replay)

    /// <summary>The raw reports after <paramref name="seq"/>, in order (for replay on top of a snapshot).</summary>
    internal IEnumerable<(long Seq, int Worker, LossReport Report)> ReadReportsAfter(long seq, IReadOnlyList<string> workers) =>
        Rows("SELECT seq, worker, cycle, step, expected, ids, losses FROM reports WHERE seq > $v ORDER BY seq;",
            r => (r.GetInt64(0), r.GetInt32(1), new LossReport(WorkerName(workers, r.GetInt32(1)), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4),
                LedgerFormat.Array<int>(r.GetValue(5)), LedgerFormat.Array<float>(r.GetValue(6)))), seq);

    /// <summary>The raw identity probes after <paramref name="seq"/>, in order (for replay on top of a snapshot).</summary>
    internal IEnumerable<(long Seq, int Worker, ProbeReport Report)> ReadProbesAfter(long seq, IReadOnlyList<string> workers) => ReadProbes("seq > $v", seq, workers);

    /// <summary>
    /// The identity probes up to log entry <paramref name="seq"/> of cycles not closed by then (a snapshot holds their
    /// statistics, but not their latents, which the close still needs).
    /// </summary>
    internal IEnumerable<(long Seq, int Worker, ProbeReport Report)> ReadOpenProbesUpTo(long seq, IReadOnlyList<string> workers) =>
        ReadProbes("seq <= $v AND cycle > coalesce((SELECT max(cycle) FROM cycles WHERE seq <= $v), -1)", seq, workers);

    private IEnumerable<(long Seq, int Worker, ProbeReport Report)> ReadProbes(string where, long seq, IReadOnlyList<string> workers) =>
        !HasProbes ? [] : Rows($"SELECT seq, worker, cycle, step, ids, own, other, {(HasLatents ? "latent_width, latents" : "0, NULL")} FROM probes WHERE {where} ORDER BY seq;",
            r => (r.GetInt64(0), r.GetInt32(1), new ProbeReport(WorkerName(workers, r.GetInt32(1)), r.GetInt64(2), r.GetInt64(3),
                LedgerFormat.Array<int>(r.GetValue(4)), LedgerFormat.Array<float>(r.GetValue(5)), LedgerFormat.Array<float>(r.GetValue(6)))
                { LatentWidth = r.GetInt32(7), Latents = r.IsDBNull(8) ? [] : LedgerFormat.Array<float>(r.GetValue(8)) }), seq);

    /// <summary>The status changes made by log entries after <paramref name="seq"/>, in order (for replay).</summary>
    internal List<StatusEvent> ReadEventsAfter(long seq) => ReadEventsWhere("seq > $v", seq);

    /// <summary>The cycle closes after log entry <paramref name="seq"/> (all with -1), in order: when, with which policy options, and their directives.</summary>
    internal List<(long Seq, long Cycle, long Step, string Options, CurationDirectives Directives)> ReadCycles(long seq = -1) =>
        Rows("SELECT seq, cycle, step, options, prune, refeed, weights, flagged, awaiting, restored FROM cycles WHERE seq > $v ORDER BY seq;",
            r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), new CurationDirectives(r.GetInt64(1),
                LedgerFormat.Array<int>(r.GetValue(4)), LedgerFormat.Array<int>(r.GetValue(5)), LedgerFormat.Array<float>(r.GetValue(6)),
                LedgerFormat.Array<int>(r.GetValue(7)), LedgerFormat.Array<int>(r.GetValue(8)), LedgerFormat.Array<int>(r.GetValue(9)))), seq).ToList();

    /// <summary>The newest close's directives, or null before the first.</summary>
    internal CurationDirectives? ReadLastDirectives()
    {
        var max = _store.Scalar("SELECT max(seq) FROM cycles;");
        if (max is null or DBNull) return null;
        return ReadCycles(Convert.ToInt64(max, CultureInfo.InvariantCulture) - 1).FirstOrDefault().Directives;
    }

    // ------------------------------------------------------------------ what queries and tools read

    /// <summary>Every raw loss record in ledger.db: per report, its worker index, cycle, step, sample ids and losses.</summary>
    public IEnumerable<StoredReport> ReadReports() =>
        Rows("SELECT seq, worker, cycle, step, expected, ids, losses FROM reports ORDER BY seq;",
            r => new StoredReport(r.GetInt64(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4),
                LedgerFormat.Array<int>(r.GetValue(5)), LedgerFormat.Array<float>(r.GetValue(6))));

    /// <summary>The workers' names by index.</summary>
    public IReadOnlyList<string> ReadWorkerNames() => Rows("SELECT name FROM workers ORDER BY idx;", r => r.GetString(0)).ToList();

    /// <summary>The steps finalized so far (step, reports arrived, reports announced, complete).</summary>
    internal List<StepRow> ReadSteps() =>
        Rows("SELECT step, cycle, reports, expected, records, median, mean, complete, late, last_seq FROM steps ORDER BY rowid;",
            r => new StepRow(r.GetInt64(0), r.GetInt64(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4),
                r.IsDBNull(5) ? float.NaN : r.GetFloat(5), r.IsDBNull(6) ? float.NaN : r.GetFloat(6), r.GetInt32(7) != 0, r.GetInt32(8) != 0, r.GetInt64(9))).ToList();

    /// <summary>One sample's rows of every closed cycle it was seen in, oldest first.</summary>
    internal List<(long Cycle, CycleSampleRow Row)> ReadSampleCycles(int dense) =>
        Rows("SELECT cycle, data FROM cycle_samples WHERE chunk = $v ORDER BY cycle;", r => (Cycle: r.GetInt64(0), Row: LedgerFormat.FindCycleRow((byte[])r.GetValue(1), dense)),
            dense >> LedgerFormat.ChunkShift)
            .Where(x => x.Row != null).Select(x => (x.Cycle, x.Row!.Value)).ToList();

    /// <summary>One sample's status changes, oldest first.</summary>
    internal List<StatusEvent> ReadEvents(int dense) => ReadEventsWhere("dense = $v", dense);

    private List<StatusEvent> ReadEventsWhere(string where, long value) =>
        Rows($"SELECT seq, dense, cycle, step, from_status, to_status, reason, at FROM events WHERE {where} ORDER BY rowid;",
            r => new StatusEvent(r.GetInt64(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), (SampleStatus)r.GetInt32(4), (SampleStatus)r.GetInt32(5),
                r.GetString(6), LedgerFormat.ParseIso(r.GetString(7))), value).ToList();

    private IEnumerable<QuarantineRecord> ReadQuarantines() =>
        Rows("SELECT qid, dense, sample_id, identity, path, cycle, step, action, original_path, current_path, sha256, reason, at, restored_cycle, restored_at FROM quarantine ORDER BY qid;",
            r => new QuarantineRecord(r.GetInt64(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetInt64(6),
                LedgerFormat.ParseAction(r.GetString(7)), r.GetString(8), r.GetString(9), r.GetString(10), r.GetString(11), LedgerFormat.ParseIso(r.GetString(12)),
                r.GetInt64(13), r.IsDBNull(14) ? null : LedgerFormat.ParseIso(r.GetString(14))));

    /// <summary>Per worker index, the newest step of its reports in ledger.db.</summary>
    internal Dictionary<int, long> ReadLastStepPerWorker() =>
        Rows("SELECT worker, MAX(step) FROM reports GROUP BY worker;", r => (r.GetInt32(0), r.GetInt64(1))).ToDictionary(x => x.Item1, x => x.Item2);

    /// <summary>File moves whose record never committed (a crash or a full disk between the journal and the record).</summary>
    internal IReadOnlyList<(long Qid, string From, string To, string Sha256)> ReadOpenMoves() =>
        Rows("SELECT qid, from_path, to_path, sha256 FROM quarantine_moves ORDER BY qid;", r => (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3))).ToList();

    /// <summary>A stored worker index's name ("worker-N" for an index the workers table does not hold).</summary>
    private static string WorkerName(IReadOnlyList<string> workers, int index) => index >= 0 && index < workers.Count ? workers[index] : $"worker-{index}";

    /// <summary>The one way rows are read: the query (with <paramref name="value"/> as $v when given), each row mapped as it is read.</summary>
    private IEnumerable<T> Rows<T>(string sql, Func<SqliteDataReader, T> map, long? value = null)
    {
        using var cmd = _store.Command(sql);
        if (value is { } v) cmd.Parameters.AddWithValue("$v", v);
        using var r = cmd.ExecuteReader();
        while (r.Read()) yield return map(r);
    }
}
