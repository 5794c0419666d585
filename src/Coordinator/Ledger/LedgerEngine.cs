using System.Diagnostics;
using System.Globalization;
using FaceCluster.Common.Errors;
using FaceCluster.Coordinator.Ledger.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>
/// The per-sample loss ledger of one run, without the actor: registration, loss reports, cycle closes (the
/// curation policy and the directives), user commands, queries and persistence. Not thread-safe: one caller at a
/// time (the <see cref="LedgerActor"/>, a benchmark, a test). <see cref="OpenReadOnly"/> serves the queries of a
/// stopped run.
/// </summary>
public sealed class LedgerEngine : IDisposable
{
    private readonly LedgerOptions _options;
    private readonly LedgerStore _store;
    private readonly LedgerState _state;
    private readonly QuarantineManager? _quarantine;
    private readonly List<QuarantineRecord> _quarantines;
    private readonly ILogger _log;
    private readonly HashSet<int> _pendingPrune = new();
    private readonly HashSet<int> _pendingRestored = new();
    private readonly Stopwatch _sinceFlush = Stopwatch.StartNew();
    private readonly Stopwatch _sinceSnapshot = Stopwatch.StartNew();
    private long _nextSeq;
    private CurationSample[] _snapshotBuffer = [];
    private int[] _slotOfObserved = [];
    private CurationOutcome[] _outcomeBuffer = [];
    private bool _firstClose = true;
    private bool _changedSinceSnapshot;
    private CurationDirectives? _lastDirectives;
    private bool _disposed;

    private LedgerEngine(LedgerOptions options, LedgerStore store, bool readOnly, ILogger log)
    {
        _options = options;
        _store = store;
        ReadOnly = readOnly;
        _log = log;
        _state = new LedgerState(options);
        var loaded = store.Load();
        _quarantines = loaded.Quarantines;
        Restore(loaded);
        long nextQuarantine = _quarantines.Count == 0 ? 1 : _quarantines.Max(q => q.Id) + 1;
        if (!readOnly)
            _quarantine = new QuarantineManager(store, options.RunDir, options.DataRoot, options.PruneAction, nextQuarantine,
                options.LoggerFactory?.CreateLogger<QuarantineManager>());
    }

    /// <summary>Opens (or creates) the ledger of <see cref="LedgerOptions.RunDir"/>, restoring what a previous process left.</summary>
    public static LedgerEngine Open(LedgerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var log = options.LoggerFactory?.CreateLogger<LedgerEngine>() ?? (ILogger)NullLogger.Instance;
        var store = LedgerStore.Open(options.RunDir, log);
        try
        {
            var engine = new LedgerEngine(options, store, false, log);
            if (options.FaceSet != null) engine.Register(options.FaceSet);
            return engine;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Opens the ledger of a stopped run for queries; commands are refused.</summary>
    public static LedgerEngine OpenReadOnly(string runDir, ILoggerFactory? loggerFactory = null)
    {
        var log = loggerFactory?.CreateLogger<LedgerEngine>() ?? (ILogger)NullLogger.Instance;
        var store = LedgerStore.OpenReadOnly(runDir, log);
        try
        {
            return new LedgerEngine(new LedgerOptions(runDir) { LoggerFactory = loggerFactory }, store, true, log);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public bool ReadOnly { get; }

    public LedgerOptions Options => _options;

    /// <summary>Loss records accepted but not yet in ledger.db: what a crash now would lose.</summary>
    public long UnflushedRecords => _store.UnflushedRecords;

    /// <summary>The store (tests and tools read the raw records through it).</summary>
    public LedgerStore Store => _store;

    /// <summary>The samples known to the ledger.</summary>
    public int SampleCount => _state.Count;

    // ---------------------------------------------------------------- loading

    private void Restore(LoadedLedger loaded)
    {
        var s = _state;
        foreach (string name in loaded.Identities) s.IdentityIndex(name);
        for (int w = 0; w < loaded.Workers.Count; w++)
        {
            int index = s.WorkerIndex(loaded.Workers[w].Name);
            s.WorkerRecords[index] = loaded.Workers[w].Records;
            s.WorkerSumLoss[index] = loaded.Workers[w].SumLoss;
        }
        foreach (var row in loaded.Samples)
        {
            int d = s.AddSample(row.Id, row.Identity, row.Path, row.Registered);
            s.Status[d] = row.Status;
            s.StatusCycle[d] = row.StatusCycle;
            s.Reasons[d] = row.Reason;
        }
        int n = Math.Min(s.Count, loaded.Counters.Length);
        loaded.Counters.AsSpan(0, n).CopyTo(s.Counters);
        loaded.Policy.AsSpan(0, n).CopyTo(s.Policy);
        loaded.Probes.AsSpan(0, Math.Min(n, loaded.Probes.Length)).CopyTo(s.Probes);
        for (int d = 0; d < s.Count; d++) s.Counters[d].Identity = loaded.Samples[d].Identity;
        foreach (var (name, _, data) in loaded.Curves)
        {
            if (name == s.GlobalCurve.Name) ReplaceCurve(name, data, _options.CurvePoints, c => s.GlobalCurveReplace(c));
            else if (name.StartsWith("identity:", StringComparison.Ordinal))
            {
                int g = s.Identities.IndexOf(name["identity:".Length..]);
                if (g >= 0) ReplaceCurve(name, data, _options.IdentityCurvePoints, c => s.IdentityCurves[g] = c);
            }
            else if (name.StartsWith("worker:", StringComparison.Ordinal))
            {
                int w = s.Workers.IndexOf(name["worker:".Length..]);
                if (w >= 0) ReplaceCurve(name, data, _options.CurvePoints, c => s.WorkerCurves[w] = c);
            }
        }
        var m = loaded.Meta;
        s.Observations = Long(m, "observations");
        s.Steps = Long(m, "steps");
        s.IncompleteSteps = Long(m, "incomplete_steps");
        s.LateReports = Long(m, "late_reports");
        s.NonFinite = Long(m, "non_finite");
        s.RawReports = Long(m, "raw_reports");
        s.Seq = loaded.Seq;
        s.LastStep = Long(m, "last_step", -1);
        s.Cycles = Long(m, "cycles");
        s.LastCycle = Long(m, "last_cycle", -1);
        s.LastCloseStep = Long(m, "last_close_step", -1);
        s.LastGlobalLoss = m.TryGetValue("last_global_loss", out var lg) && lg is double dl ? dl : double.NaN;
        s.ManifestHash = m.TryGetValue("manifest_hash", out var mh) ? Convert.ToString(mh, CultureInfo.InvariantCulture) ?? "" : "";
        if (m.TryGetValue("pending", out var pending) && pending is byte[] bytes && bytes.Length > 0) s.RestorePending(bytes);
        s.RebuildStatusSets();
        s.RebuildCycleObserved();
        _lastDirectives = _store.ReadLastDirectives();
        // What was loaded is what ledger.db holds: nothing to write back.
        s.NewIdentities.Clear();
        s.NewWorkers.Clear();
        s.InfoDirty.Clear();
        s.ClearDirty();
        foreach (var c in s.IdentityCurves.Append(s.GlobalCurve).Concat(s.WorkerCurves)) c.Dirty = false;

        // Replay the log after the snapshot: reports, cycle closes and user commands, in the order they happened.
        _nextSeq = Math.Max(loaded.MaxSeq, loaded.Seq) + 1;
        var closes = new Queue<(long Seq, long Cycle, long Step, string Options, CurationDirectives Directives)>(_store.ReadCycles(loaded.Seq));
        var events = _store.ReadEventsAfter(loaded.Seq).GroupBy(e => e.Seq).OrderBy(g => g.Key).Select(g => (Seq: g.Key, Events: g.ToList()));
        var commands = new Queue<(long Seq, List<StatusEvent> Events)>(events.Where(g => closes.All(c => c.Seq != g.Seq)));
        var closeEvents = events.Where(g => closes.Any(c => c.Seq == g.Seq)).ToDictionary(g => g.Seq, g => g.Events);
        long replayed = 0;
        void Upto(long seq)
        {
            while (true)
            {
                long nextClose = closes.Count > 0 ? closes.Peek().Seq : long.MaxValue;
                long nextCommand = commands.Count > 0 ? commands.Peek().Seq : long.MaxValue;
                if (Math.Min(nextClose, nextCommand) >= seq) return;
                if (nextClose < nextCommand)
                {
                    var close = closes.Dequeue();
                    ReplayClose(close.Seq, close.Cycle, close.Step, close.Options, close.Directives, closeEvents.GetValueOrDefault(close.Seq) ?? []);
                }
                else
                {
                    var command = commands.Dequeue();
                    foreach (var e in command.Events) ReplayStatus(e, fromCommand: true);
                    s.Seq = command.Seq;
                }
                replayed++;
            }
        }
        var workerNames = loaded.Workers.Select(w => w.Name).ToList();
        using (var probes = _store.ReadProbesAfter(loaded.Seq, workerNames).GetEnumerator())
        {
            bool moreProbes = probes.MoveNext();
            void ProbesUpto(long seq)
            {
                while (moreProbes && probes.Current.Seq < seq)
                {
                    Upto(probes.Current.Seq);
                    s.IngestProbe(probes.Current.Report, probes.Current.Seq);
                    replayed++;
                    moreProbes = probes.MoveNext();
                }
            }
            foreach (var (seq, _, report) in _store.ReadReportsAfter(loaded.Seq, workerNames))
            {
                ProbesUpto(seq);
                Upto(seq);
                s.Ingest(report, s.WorkerIndex(report.WorkerId), seq);
                replayed++;
            }
            ProbesUpto(long.MaxValue);
        }
        Upto(long.MaxValue);
        s.NewIdentities.Clear(); // replayed names are in ledger.db already
        s.NewWorkers.Clear();
        _changedSinceSnapshot = replayed > 0;
        if (s.Count > 0 || replayed > 0)
            _log.LogInformation("Ledger {Path}: {Samples} samples, {Observations} observations, {Cycles} cycles; {Replayed} log entries replayed after the last snapshot",
                _store.DatabasePath, s.Count, s.Observations, s.Cycles, replayed);
    }

    /// <summary>
    /// Replays a cycle close: the same bookkeeping and policy run (with the options it ran with), but the statuses
    /// come from the recorded events — what was decided and acted on then — and nothing is written or moved.
    /// </summary>
    private void ReplayClose(long seq, long cycle, long step, string optionsJson, CurationDirectives directives, List<StatusEvent> events)
    {
        var s = _state;
        s.FinalizeUpTo(cycle);
        CurationPolicyOptions options;
        try { options = System.Text.Json.JsonSerializer.Deserialize<CurationPolicyOptions>(optionsJson) ?? _options.Policy; }
        catch (System.Text.Json.JsonException) { options = _options.Policy; }
        var snapshot = BuildSnapshot(new CloseCycle(cycle, step));
        if (_outcomeBuffer.Length < snapshot.Samples.Length) _outcomeBuffer = new CurationOutcome[snapshot.Samples.Length + snapshot.Samples.Length / 4];
        var decision = CurationPolicy.Decide(snapshot, options, _outcomeBuffer);
        var decided = new Dictionary<int, SampleStatus>();
        foreach (var o in decision.Outcomes)
        {
            s.Policy[o.Index] = o.State;
            if (!float.IsNaN(o.IdentityZ)) s.Probes[o.Index].LastZ = o.IdentityZ;
            s.Probes[o.Index].OutlierBits = o.ProbeOutlierBits;
            s.MarkDirty(o.Index);
            if (o.Status != s.Status[o.Index]) decided[o.Index] = o.Status;
        }
        int differ = events.Count(e => !decided.TryGetValue(e.Dense, out var to) || to != e.To) + decided.Keys.Count(d => events.All(e => e.Dense != d));
        if (differ > 0)
            _log.LogWarning("Replaying cycle {Cycle}: {Differ} status changes differ from the recorded ones; the recorded ones stand", cycle, differ);
        foreach (var e in events) ReplayStatus(e, fromCommand: false);
        s.ResetCycle();
        s.Cycles++;
        s.LastCycle = cycle;
        s.LastCloseStep = step;
        s.Seq = seq;
        _lastDirectives = directives;
        _pendingPrune.Clear();
        _pendingRestored.Clear();
    }

    private void ReplayStatus(StatusEvent e, bool fromCommand)
    {
        var s = _state;
        if ((uint)e.Dense >= (uint)s.Count) return;
        s.SetStatus(e.Dense, e.To, e.Cycle, e.Reason);
        ResetRefeed(e.Dense, e.To);
        if (!fromCommand) return;
        if (e.To == SampleStatus.Quarantined) { _pendingPrune.Add(e.Dense); _pendingRestored.Remove(e.Dense); }
        if (e.To == SampleStatus.Restored) { _pendingRestored.Add(e.Dense); _pendingPrune.Remove(e.Dense); }
    }

    private static void ReplaceCurve(string name, byte[] data, int points, Action<CurveSeries> set)
    {
        try { set(CurveSeries.Deserialize(name, points, data)); }
        catch (InvalidDataException) { /* a damaged curve is dropped, not fatal: it is a view, not data */ }
    }

    private static long Long(Dictionary<string, object> meta, string key, long fallback = 0) =>
        meta.TryGetValue(key, out var v) && v is not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : fallback;

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
        _store.AddReport(seq, worker, r);
        _state.Ingest(r, worker, seq);
        _changedSinceSnapshot = true;
        if (_store.UnflushedRecords >= _options.Flush.MaxPendingRecords) Flush();
    }

    /// <summary>Takes identity-probe losses (see <c>IIdentityProbe</c>); unknown samples and non-finite losses are counted and dropped.</summary>
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
        _store.AddProbe(seq, _state.WorkerIndex(r.WorkerId), r);
        _state.IngestProbe(r, seq);
        _changedSinceSnapshot = true;
    }

    /// <summary>The flush policy's clock: writes the raw records when the interval has passed, and a snapshot when its interval has.</summary>
    public void Tick()
    {
        if (ReadOnly || _disposed) return;
        if (_changedSinceSnapshot && _sinceSnapshot.ElapsedMilliseconds >= _options.Flush.SnapshotIntervalMs) Snapshot();
        else if (_sinceFlush.ElapsedMilliseconds >= _options.Flush.IntervalMs) Flush();
    }

    /// <summary>Closes a cycle: finalizes its steps, runs the policy, applies and records its decisions, writes a snapshot, and returns the directives.</summary>
    public CurationDirectives CloseCycle(CloseCycle m)
    {
        ThrowIfReadOnly();
        var s = _state;
        if (_lastDirectives != null && m.Cycle == _lastDirectives.Cycle && m.Step == s.LastCloseStep && s.CycleObserved.Count == 0)
            return _lastDirectives; // the same close again (a retry): the same answer
        long seq = _nextSeq++;
        s.FinalizeUpTo(m.Cycle);
        var now = DateTime.UtcNow;
        var policy = _options.Policy;
        var snapshot = BuildSnapshot(m);
        if (_outcomeBuffer.Length < snapshot.Samples.Length) _outcomeBuffer = new CurationOutcome[snapshot.Samples.Length + snapshot.Samples.Length / 4];
        var decision = CurationPolicy.Decide(snapshot, policy, _outcomeBuffer);

        var rows = new CycleSampleRow[s.CycleObserved.Count];
        for (int k = 0; k < s.CycleObserved.Count; k++)
        {
            int d = s.CycleObserved[k];
            ref var c = ref s.Counters[d];
            float meanRel = MathF.Exp(c.CycleSumLog / c.CycleObservations);
            float meanLoss = c.CycleSumLoss / c.CycleObservations;
            int slot = _slotOfObserved[k];
            if (slot >= 0)
            {
                var o = decision.Outcomes[slot];
                s.Policy[d] = o.State;
                if (!float.IsNaN(o.IdentityZ)) s.Probes[d].LastZ = o.IdentityZ;
                s.Probes[d].OutlierBits = o.ProbeOutlierBits;
                s.MarkDirty(d);
                if (o.Status != s.Status[d]) ApplyStatus(seq, d, o.Status, m.Cycle, m.Step, o.Reason ?? "", now);
                else if (o.Reason != null) { s.Reasons[d] = o.Reason; s.InfoDirty.Add(d); }
                rows[k] = new CycleSampleRow(d, c.CycleObservations, meanRel, meanLoss, o.Z, o.ErraticZ, o.Flags, (byte)s.Status[d]);
            }
            else
            {
                rows[k] = new CycleSampleRow(d, c.CycleObservations, meanRel, meanLoss, float.NaN, float.NaN,
                    s.Status[d] == SampleStatus.Refed ? CycleFlags.Refed : CycleFlags.None, (byte)s.Status[d]);
            }
        }
        int observed = s.CycleObserved.Count;
        s.ResetCycle();
        s.Cycles++;
        s.LastCycle = m.Cycle;
        s.LastCloseStep = m.Step;
        s.Seq = seq;
        var directives = BuildDirectives(m.Cycle);
        _store.AddCycle(seq, m.Cycle, m.Step, now, observed, decision.Decided, System.Text.Json.JsonSerializer.Serialize(policy), directives, rows);
        _changedSinceSnapshot = true;
        Flush();
        _lastDirectives = directives;
        if (directives.Prune.Length + directives.Refeed.Length + directives.AwaitingReview.Length + decision.HeldByCaps > 0)
            _log.LogInformation("Cycle {Cycle}: {Prune} pruned, {Refeed} re-fed, {Flagged} flagged, {Review} awaiting review, {Held} prunes held back by caps",
                m.Cycle, directives.Prune.Length, directives.Refeed.Length, directives.Flagged.Length, directives.AwaitingReview.Length, decision.HeldByCaps);
        return directives;
    }

    /// <summary>
    /// The policy's input: the registered, not quarantined samples seen in the open cycle (in <see cref="LedgerState.CycleObserved"/>
    /// order; <see cref="_slotOfObserved"/> maps each observed position to its slot, -1 if left out) and the counts the caps need.
    /// </summary>
    private CurationSnapshot BuildSnapshot(CloseCycle m)
    {
        var s = _state;
        var observed = s.CycleObserved;
        if (_snapshotBuffer.Length < observed.Count) _snapshotBuffer = new CurationSample[Math.Max(observed.Count, _snapshotBuffer.Length * 2)];
        if (_slotOfObserved.Length < observed.Count) _slotOfObserved = new int[Math.Max(observed.Count, _slotOfObserved.Length * 2)];
        int n = 0;
        for (int k = 0; k < observed.Count; k++)
        {
            int d = observed[k];
            if (!s.Registered[d] || s.Status[d] == SampleStatus.Quarantined) { _slotOfObserved[k] = -1; continue; }
            ref readonly var c = ref s.Counters[d];
            ref readonly var p = ref s.Probes[d];
            _slotOfObserved[k] = n;
            _snapshotBuffer[n++] = new CurationSample(d, c.Identity, s.Status[d], c.CycleObservations, c.CycleSumLog / c.CycleObservations,
                c.RelObservations, c.SmoothedLog, c.SmoothedSpread, s.Policy[d]) 
            {
                Probes = p.Probes, IdentityMargin = p.SmoothedMargin, ProbeOutlierBits = p.OutlierBits,
                ProbeMargin = p.LastCycle == m.Cycle ? p.LastMargin : float.NaN,
            };
        }
        int identities = s.Identities.Count;
        var samples = new int[identities];
        var quarantined = new int[identities];
        var awaiting = new int[identities];
        var registered = s.Registered;
        var status = s.Status;
        var counters = s.Counters;
        int total = 0;
        for (int d = 0; d < s.Count; d++)
        {
            if (!registered[d]) continue;
            int g = counters[d].Identity;
            samples[g]++;
            total++;
            var st = status[d];
            if (st == SampleStatus.Quarantined) quarantined[g]++;
            else if (st == SampleStatus.AwaitingReview) awaiting[g]++;
        }
        var counts = new IdentityCounts[identities];
        for (int g = 0; g < identities; g++)
            counts[g] = new IdentityCounts(samples[g], samples[g] - quarantined[g] - awaiting[g], quarantined[g], awaiting[g]);
        return new CurationSnapshot(m.Cycle, m.Step, _snapshotBuffer.AsMemory(0, n), counts, total, quarantined.Sum(), awaiting.Sum());
    }

    private CurationDirectives BuildDirectives(long cycle)
    {
        var s = _state;
        var prune = new HashSet<int>(_pendingPrune);
        if (_firstClose) prune.UnionWith(s.ByStatus[(int)SampleStatus.Quarantined]);
        bool off = _options.Policy.Mode == CurationMode.Off;
        int[] refeedDense = off ? [] : s.ByStatus[(int)SampleStatus.Refed].OrderBy(d => s.Ids[d]).ToArray();
        var directives = new CurationDirectives(
            cycle,
            Ids(prune),
            refeedDense.Select(d => s.Ids[d]).ToArray(),
            refeedDense.Select(d => s.Policy[d].RefeedWeight > 1 ? s.Policy[d].RefeedWeight : (float)Math.Max(1, _options.Policy.RefeedWeight)).ToArray(),
            off ? [] : Ids(s.ByStatus[(int)SampleStatus.Flagged]),
            off ? [] : Ids(s.ByStatus[(int)SampleStatus.AwaitingReview]),
            Ids(_pendingRestored));
        _pendingPrune.Clear();
        _pendingRestored.Clear();
        _firstClose = false;
        return directives;
    }

    private int[] Ids(IEnumerable<int> dense)
    {
        var ids = dense.Select(d => _state.Ids[d]).ToArray();
        Array.Sort(ids);
        return ids;
    }

    private void ApplyStatus(long seq, int d, SampleStatus to, long cycle, long step, string reason, DateTime now)
    {
        var s = _state;
        var from = s.Status[d];
        s.SetStatus(d, to, cycle, reason);
        _store.AddEvent(new StatusEvent(seq, d, cycle, step, from, to, reason, now));
        if (to == SampleStatus.Quarantined)
        {
            var record = _quarantine!.Quarantine(d, s.Ids[d], IdentityName(d), s.Paths[d], cycle, step, reason, now);
            _quarantines.Add(record);
            _pendingPrune.Add(d);
            _pendingRestored.Remove(d);
        }
        ResetRefeed(d, to);
    }

    /// <summary>Leaving the re-fed state (or being restored) ends any re-feed and any held prune.</summary>
    private void ResetRefeed(int d, SampleStatus to)
    {
        if (to is not (SampleStatus.Quarantined or SampleStatus.AwaitingReview or SampleStatus.Restored or SampleStatus.Active)) return;
        var s = _state;
        var p = s.Policy[d];
        if (p.RefeedSince >= 0 || p.RefeedWeight != 1f || (to == SampleStatus.Restored && p.Held != 0))
        {
            s.Policy[d] = p with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0, Held = to == SampleStatus.Restored ? 0 : p.Held };
            s.MarkDirty(d);
        }
    }

    private string IdentityName(int d)
    {
        int g = _state.Counters[d].Identity;
        return g >= 0 && g < _state.Identities.Count ? _state.Identities[g] : "";
    }

    // ---------------------------------------------------------------- user commands and queries

    /// <summary>Answers any ledger request: the reply record, or a <see cref="LedgerError"/> saying why not.</summary>
    public object Handle(ILedgerRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policy = _options.Policy;
        try
        {
            switch (request)
            {
                case GetLedgerStats:
                    return Stats();
                case GetWorstSamples q:
                    if (q.Count < 0) return Error(request, $"the count of worst samples must not be negative, got {q.Count}");
                    return LedgerQueries.Worst(_state, q, policy);
                case GetSampleHistory q:
                    return Known(request, [q.SampleId], out var dense) is { } e1 ? e1 : LedgerQueries.History(_state, _store, _quarantines, dense[0], policy);
                case GetLedgerIdentities:
                    return LedgerQueries.Identities(_state);
                case GetQuarantine q:
                    return LedgerQueries.Quarantine(_quarantines, q.IncludeRestored);
                case GetReviewQueue:
                    return LedgerQueries.Review(_state, policy);
                case GetLossCurves q:
                    if (q.MaxPoints < 2) return Error(request, $"a loss curve needs at least 2 points, got {q.MaxPoints}");
                    return LedgerQueries.Curves(_state, q.MaxPoints);
                case FlushLedger:
                    if (!ReadOnly) Flush();
                    return new LedgerFlushed(_state.RawReports, _state.Observations, UnflushedRecords);
                case RestoreSamples c:
                    return ReadOnly ? ReadOnlyError(request) : RestoreCommand(c);
                case ReviewDecision c:
                    return ReadOnly ? ReadOnlyError(request) : ReviewCommand(c);
                default:
                    return Error(request, $"the ledger does not know the request {request.GetType().Name}");
            }
        }
        catch (FaceClusterException e)
        {
            return Error(request, e.Message);
        }
    }

    public LedgerStats Stats()
    {
        var s = _state;
        int Count(SampleStatus status) => s.ByStatus[(int)status].Count;
        int others = Count(SampleStatus.Refed) + Count(SampleStatus.Flagged) + Count(SampleStatus.AwaitingReview) + Count(SampleStatus.Quarantined) + Count(SampleStatus.Restored);
        return new LedgerStats(
            _options.Policy.Mode.ToString().ToLowerInvariant(), s.RegisteredCount, s.Identities.Count(n => n != LedgerState.UnregisteredIdentity), s.Workers.Count,
            s.Observations, s.Steps, s.Cycles, s.LastCycle, s.LastStep,
            s.Count - others, Count(SampleStatus.Refed), Count(SampleStatus.Flagged), Count(SampleStatus.AwaitingReview),
            Count(SampleStatus.Quarantined), Count(SampleStatus.Restored),
            s.IncompleteSteps, s.PendingSteps, s.LateReports, UnflushedRecords, s.LastGlobalLoss, s.RawReports, s.NonFinite, s.UnregisteredCount);
    }

    private object RestoreCommand(RestoreSamples c)
    {
        if (Known(c, c.SampleIds, out var dense) is { } error) return error;
        var s = _state;
        var now = DateTime.UtcNow;
        long cycle = s.LastCycle + 1;
        long seq = _nextSeq++;
        s.Seq = seq;
        var restored = new List<int>();
        var failures = new List<RestoreFailure>();
        int moved = 0;
        string reason = string.IsNullOrWhiteSpace(c.Reason) ? "restored by a person" : "restored by a person: " + c.Reason.Trim();
        foreach (int d in dense.Distinct())
        {
            if (s.Status[d] == SampleStatus.Quarantined)
            {
                int at = _quarantines.FindLastIndex(q => q.Dense == d && !q.IsRestored);
                if (at >= 0)
                {
                    try
                    {
                        var record = _quarantine!.Restore(_quarantines[at], cycle, now);
                        if (record.Action == QuarantineAction.Move && record.CurrentPath == record.OriginalPath) moved++;
                        _quarantines[at] = record;
                    }
                    catch (Exception e) when (e is FaceClusterException or IOException or UnauthorizedAccessException)
                    {
                        failures.Add(new RestoreFailure(s.Ids[d], e.Message));
                        continue;
                    }
                }
            }
            if (s.Status[d] != SampleStatus.Restored) ApplyStatus(seq, d, SampleStatus.Restored, cycle, Math.Max(0, s.LastStep), reason, now);
            _pendingRestored.Add(d);
            _pendingPrune.Remove(d);
            restored.Add(s.Ids[d]);
        }
        _changedSinceSnapshot = true;
        Flush();
        return new SamplesRestored(restored.ToArray(), moved, failures.ToArray());
    }

    private object ReviewCommand(ReviewDecision c)
    {
        if (Known(c, [c.SampleId], out var dense) is { } error) return error;
        var s = _state;
        int d = dense[0];
        var now = DateTime.UtcNow;
        long cycle = s.LastCycle + 1;
        if (c.Quarantine)
        {
            if (s.Status[d] != SampleStatus.Quarantined)
            {
                long seq = _nextSeq++;
                s.Seq = seq;
                ApplyStatus(seq, d, SampleStatus.Quarantined, cycle, Math.Max(0, s.LastStep), "quarantined on review by a person", now);
            }
        }
        else if (s.Status[d] == SampleStatus.Quarantined)
        {
            if (RestoreCommand(new RestoreSamples([c.SampleId], "kept on review")) is SamplesRestored { Failures.Length: > 0 } failed)
                return Error(c, failed.Failures[0].Reason);
        }
        else if (s.Status[d] != SampleStatus.Restored)
        {
            long seq = _nextSeq++;
            s.Seq = seq;
            ApplyStatus(seq, d, SampleStatus.Restored, cycle, Math.Max(0, s.LastStep), "kept on review by a person", now);
            _pendingRestored.Add(d);
        }
        _changedSinceSnapshot = true;
        Flush();
        var record = _quarantines.LastOrDefault(q => q.Dense == d);
        string path = record?.CurrentPath ?? _quarantine!.OriginalPathOf(s.Paths[d]);
        return new ReviewRecorded(c.SampleId, s.Status[d].ToName(), path);
    }

    /// <summary>Maps sample ids to dense indices; an error naming every unknown id if any.</summary>
    private LedgerError? Known(ILedgerRequest request, int[] ids, out int[] dense)
    {
        dense = new int[ids.Length];
        List<int>? unknown = null;
        for (int i = 0; i < ids.Length; i++)
            if (!_state.IdMap.TryGet(ids[i], out dense[i])) (unknown ??= new()).Add(ids[i]);
        if (ids.Length == 0) return new LedgerError(request.GetType().Name, "no sample ids given", []);
        if (unknown == null) return null;
        string list = string.Join(", ", unknown.Take(20)) + (unknown.Count > 20 ? $" and {unknown.Count - 20} more" : "");
        return new LedgerError(request.GetType().Name,
            $"unknown sample id{(unknown.Count == 1 ? "" : "s")} {list}: not in this run's ledger", unknown.ToArray());
    }

    private static LedgerError Error(ILedgerRequest request, string message) => new(request.GetType().Name, message, []);

    private LedgerError ReadOnlyError(ILedgerRequest request) =>
        Error(request, $"the ledger {_store.DatabasePath} is open read-only (a stopped run): {request.GetType().Name} needs the running coordinator");

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
        _store.Flush(null);
        _sinceFlush.Restart();
    }

    /// <summary>
    /// Flushes, and writes a snapshot of the derived state: the per-sample statistics and policy memory changed since
    /// the last snapshot, the sample rows, steps, curves, workers, totals and the steps still waiting for reports.
    /// </summary>
    public void Snapshot()
    {
        if (ReadOnly || _disposed) return;
        var s = _state;
        StageNames();
        foreach (int d in s.InfoDirty) _store.PutSample(s.InfoRow(d));
        s.InfoDirty.Clear();
        foreach (var row in s.FinalizedSteps) _store.AddStep(row);
        s.FinalizedSteps.Clear();
        var curves = new List<(string, int, byte[])>();
        void Curve(CurveSeries c, int kind)
        {
            if (!c.Dirty) return;
            curves.Add((c.Name, kind, c.Serialize()));
            c.Dirty = false;
        }
        Curve(s.GlobalCurve, 0);
        foreach (var c in s.IdentityCurves) Curve(c, 1);
        foreach (var c in s.WorkerCurves) Curve(c, 2);
        var snapshot = new LedgerSnapshot
        {
            Seq = s.Seq,
            Count = s.Count,
            Counters = s.Counters,
            Policy = s.Policy,
            Probes = s.Probes,
            Dirty = s.Dirty,
            Curves = curves,
            Workers = Enumerable.Range(0, s.Workers.Count).Select(w => (w, s.Workers[w], s.WorkerRecords[w], s.WorkerSumLoss[w])).ToList(),
            Meta =
            [
                new("observations", s.Observations), new("steps", s.Steps), new("incomplete_steps", s.IncompleteSteps),
                new("late_reports", s.LateReports), new("non_finite", s.NonFinite), new("raw_reports", s.RawReports),
                new("last_step", s.LastStep), new("cycles", s.Cycles), new("last_cycle", s.LastCycle), new("last_close_step", s.LastCloseStep),
                new("last_global_loss", double.IsNaN(s.LastGlobalLoss) ? DBNull.Value : s.LastGlobalLoss),
                new("manifest_hash", s.ManifestHash), new("pending", s.SerializePending()),
            ],
        };
        _store.Flush(snapshot);
        s.ClearDirty();
        _changedSinceSnapshot = false;
        _sinceFlush.Restart();
        _sinceSnapshot.Restart();
    }

    private void StageNames()
    {
        var s = _state;
        foreach (int g in s.NewIdentities) _store.AddIdentity(g, s.Identities[g]);
        s.NewIdentities.Clear();
        foreach (int w in s.NewWorkers) _store.AddWorker(w, s.Workers[w]);
        s.NewWorkers.Clear();
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
