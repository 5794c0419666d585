using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.State;
using FaceCluster.Coordinator.Ledger.Store;

namespace FaceCluster.Coordinator.Ledger.Recovery;

/// <summary>
/// Reopens a ledger: the newest snapshot goes into the ledger's memory, then the log written after it is replayed in
/// the order it happened — loss reports, identity probes, cycle closes and a person's commands. A replayed close runs
/// the same bookkeeping and policy (with the options it ran with), but the statuses come from the recorded status
/// changes, what was decided and acted on then; nothing is written or moved.
/// </summary>
internal sealed class LedgerRecovery
{
    private readonly LedgerStore _store;
    private readonly LedgerState _state;
    private readonly DirectiveBook _directives;
    private readonly CurationRound _round;
    private readonly CurationPolicyOptions _policy;
    private readonly ILogger _log;

    private LedgerRecovery(LedgerStore store, LedgerState state, DirectiveBook directives, CurationRound round, CurationPolicyOptions policy, ILogger log)
    {
        (_store, _state, _directives, _round, _policy, _log) = (store, state, directives, round, policy, log);
    }

    /// <summary>What a reopened ledger continues from.</summary>
    /// <param name="NextSeq">The next log entry's sequence number.</param>
    /// <param name="Replayed">Log entries replayed after the snapshot (the state differs from ledger.db's snapshot when any were).</param>
    public sealed record Result(LoadedLedger Loaded, long NextSeq, long Replayed);

    public static Result Restore(LedgerStore store, LedgerState state, DirectiveBook directives, CurationRound round, CurationPolicyOptions policy, ILogger log) =>
        new LedgerRecovery(store, state, directives, round, policy, log).Run();

    private Result Run()
    {
        var loaded = _store.Load();
        _state.LoadSnapshot(loaded);
        _directives.Last = _store.Reader.ReadLastDirectives();
        foreach (var (_, _, probe) in _store.Reader.ReadOpenProbesUpTo(loaded.Seq, loaded.Workers.Select(w => w.Name).ToList()))
            _state.IngestLatents(probe);

        var reader = _store.Reader;
        var closes = new Queue<(long Seq, long Cycle, long Step, string Options, CurationDirectives Directives)>(reader.ReadCycles(loaded.Seq));
        var events = reader.ReadEventsAfter(loaded.Seq).GroupBy(e => e.Seq).OrderBy(g => g.Key).Select(g => (Seq: g.Key, Events: g.ToList())).ToList();
        var closeSeqs = closes.Select(c => c.Seq).ToHashSet();
        var commands = new Queue<(long Seq, List<StatusEvent> Events)>(events.Where(g => !closeSeqs.Contains(g.Seq)));
        var closeEvents = events.Where(g => closeSeqs.Contains(g.Seq)).ToDictionary(g => g.Seq, g => g.Events);
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
                    _state.AdvanceSeq(command.Seq);
                }
                replayed++;
            }
        }
        var workerNames = loaded.Workers.Select(w => w.Name).ToList();
        using (var probes = reader.ReadProbesAfter(loaded.Seq, workerNames).GetEnumerator())
        {
            bool moreProbes = probes.MoveNext();
            void ProbesUpto(long seq)
            {
                while (moreProbes && probes.Current.Seq < seq)
                {
                    Upto(probes.Current.Seq);
                    _state.IngestProbe(probes.Current.Report, probes.Current.Seq);
                    replayed++;
                    moreProbes = probes.MoveNext();
                }
            }
            foreach (var (seq, _, report) in reader.ReadReportsAfter(loaded.Seq, workerNames))
            {
                ProbesUpto(seq);
                Upto(seq);
                _state.Ingest(report, _state.WorkerIndex(report.WorkerId), seq);
                replayed++;
            }
            ProbesUpto(long.MaxValue);
        }
        Upto(long.MaxValue);
        _state.ForgetNewNames(); // replayed names are in ledger.db already
        if (_state.Count > 0 || replayed > 0)
            _log.LogInformation("Ledger {Path}: {Samples} samples, {Observations} observations, {Cycles} cycles; {Replayed} log entries replayed after the last snapshot",
                _store.DatabasePath, _state.Count, _state.Observations, _state.Cycles, replayed);
        return new Result(loaded, Math.Max(loaded.MaxSeq, loaded.Seq) + 1, replayed);
    }

    private void ReplayClose(long seq, long cycle, long step, string optionsJson, CurationDirectives directives, List<StatusEvent> events)
    {
        _state.FinalizeUpTo(cycle);
        CurationPolicyOptions options;
        try { options = System.Text.Json.JsonSerializer.Deserialize<CurationPolicyOptions>(optionsJson) ?? _policy; }
        catch (System.Text.Json.JsonException) { options = _policy; }
        var decision = _round.Decide(_state, cycle, step, options);
        var decided = new Dictionary<int, SampleStatus>();
        foreach (var o in decision.Outcomes)
        {
            _state.ApplyOutcome(o);
            if (o.Status != _state.Status[o.Index]) decided[o.Index] = o.Status;
        }
        var recorded = events.Select(e => e.Dense).ToHashSet();
        int differ = events.Count(e => !decided.TryGetValue(e.Dense, out var to) || to != e.To) + decided.Keys.Count(d => !recorded.Contains(d));
        if (differ > 0)
            _log.LogWarning("Replaying cycle {Cycle}: {Differ} status changes differ from the recorded ones; the recorded ones stand", cycle, differ);
        foreach (var e in events) ReplayStatus(e, fromCommand: false);
        _state.CloseCycle(cycle, step, seq);
        _directives.Replayed(directives);
    }

    private void ReplayStatus(StatusEvent e, bool fromCommand)
    {
        if ((uint)e.Dense >= (uint)_state.Count) return;
        _state.ChangeStatus(e.Dense, e.To, e.Cycle, e.Reason);
        if (!fromCommand) return;
        if (e.To == SampleStatus.Quarantined) _directives.Quarantined(e.Dense);
        if (e.To == SampleStatus.Restored) _directives.Restored(e.Dense);
    }
}
