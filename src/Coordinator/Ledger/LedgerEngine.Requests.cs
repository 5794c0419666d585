using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.State;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>The ledger's requests: queries (answered from memory, and a sample's history from ledger.db) and a person's commands (restore, review).</summary>
public sealed partial class LedgerEngine
{
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
                    return Known(request, [q.SampleId], out var dense) is { } e1 ? e1 : LedgerQueries.History(_state, _store.Reader, _quarantines, dense[0], policy);
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
        int Count(SampleStatus status) => s.InStatus(status).Count;
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
        s.AdvanceSeq(seq);
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
            _directives.Restored(d);
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
                s.AdvanceSeq(seq);
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
            s.AdvanceSeq(seq);
            ApplyStatus(seq, d, SampleStatus.Restored, cycle, Math.Max(0, s.LastStep), "kept on review by a person", now);
            _directives.Restored(d);
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
            if (!_state.TryGetDense(ids[i], out dense[i])) (unknown ??= new()).Add(ids[i]);
        if (ids.Length == 0) return new LedgerError(request.GetType().Name, "no sample ids given", []);
        if (unknown == null) return null;
        string list = string.Join(", ", unknown.Take(20)) + (unknown.Count > 20 ? $" and {unknown.Count - 20} more" : "");
        return new LedgerError(request.GetType().Name,
            $"unknown sample id{(unknown.Count == 1 ? "" : "s")} {list}: not in this run's ledger", unknown.ToArray());
    }

    private static LedgerError Error(ILedgerRequest request, string message) => new(request.GetType().Name, message, []);

    private LedgerError ReadOnlyError(ILedgerRequest request) =>
        Error(request, $"the ledger {_store.DatabasePath} is open read-only (a stopped run): {request.GetType().Name} needs the running coordinator");
}
