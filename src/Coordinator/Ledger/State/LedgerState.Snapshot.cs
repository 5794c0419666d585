using FaceCluster.Coordinator.Ledger.Store;

namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>What the ledger's memory hands the store, and takes back from it when a run reopens.</summary>
internal sealed partial class LedgerState
{
    /// <summary>Identities and workers named since the store last took them.</summary>
    public (List<(int Index, string Name)> Identities, List<(int Index, string Name)> Workers) TakeNewNames()
    {
        var identities = _newIdentities.Select(g => (g, _identities[g])).ToList();
        var workers = _newWorkers.Select(w => (w, _workers[w])).ToList();
        _newIdentities.Clear();
        _newWorkers.Clear();
        return (identities, workers);
    }

    /// <summary>
    /// The derived state for a snapshot: the statistics of the samples changed since the last written snapshot, the
    /// sample rows and steps changed since the last snapshot was taken, the curves that changed, the workers and the
    /// totals. Rows, steps and curves are handed over once (the writer keeps them until they are written); the
    /// changed statistics are cleared by <see cref="SnapshotWritten"/>, so a failed write sends them again.
    /// </summary>
    public LedgerSnapshot TakeSnapshot()
    {
        var rows = _infoDirty.Select(InfoRow).ToList();
        _infoDirty.Clear();
        var steps = _finalizedSteps.ToList();
        _finalizedSteps.Clear();
        var curves = new List<(string, int, byte[])>();
        void Curve(CurveSeries c, int kind)
        {
            if (!c.Dirty) return;
            curves.Add((c.Name, kind, c.Serialize()));
            c.Dirty = false;
        }
        Curve(GlobalCurve, 0);
        foreach (var c in _identityCurves) Curve(c, 1);
        foreach (var c in _workerCurves) Curve(c, 2);
        foreach (var c in _validationCurves) Curve(c, 3);
        return new LedgerSnapshot
        {
            Seq = Seq,
            Count = Count,
            Counters = _counters,
            Policy = _policy,
            Probes = _probes,
            Dirty = _dirty,
            SampleRows = rows,
            Steps = steps,
            Curves = curves,
            Workers = Enumerable.Range(0, _workers.Count).Select(w => (w, _workers[w], _workerRecords[w], _workerSumLoss[w])).ToList(),
            Meta =
            [
                new("observations", Observations), new("steps", Steps), new("incomplete_steps", IncompleteSteps),
                new("late_reports", LateReports), new("non_finite", NonFinite), new("raw_reports", RawReports),
                new("last_step", LastStep), new("cycles", Cycles), new("last_cycle", LastCycle), new("last_close_step", LastCloseStep),
                new("last_global_loss", double.IsNaN(LastGlobalLoss) ? DBNull.Value : LastGlobalLoss),
                new("manifest_hash", ManifestHash), new("pending", _steps.Serialize()),
            ],
        };
    }

    /// <summary>The snapshot taken last is in ledger.db: the changed statistics are clean again.</summary>
    public void SnapshotWritten()
    {
        foreach (int d in _dirty) _dirtyBits[d >> 6] &= ~(1UL << (d & 63));
        _dirty.Clear();
    }

    /// <summary>Adopts the newest snapshot the store read (an empty ledger's is empty); nothing loaded counts as changed.</summary>
    public void LoadSnapshot(LoadedLedger loaded)
    {
        foreach (string name in loaded.Identities) IdentityIndex(name);
        for (int w = 0; w < loaded.Workers.Count; w++)
        {
            int index = WorkerIndex(loaded.Workers[w].Name);
            _workerRecords[index] = loaded.Workers[w].Records;
            _workerSumLoss[index] = loaded.Workers[w].SumLoss;
        }
        foreach (var row in loaded.Samples)
        {
            int d = AddSample(row.Id, row.Identity, row.Path, row.Registered);
            _status[d] = row.Status;
            _statusCycle[d] = row.StatusCycle;
            _reasons[d] = row.Reason;
            if (row.Status != SampleStatus.Active) _byStatus[(int)row.Status].Add(d);
        }
        int n = Math.Min(Count, loaded.Counters.Length);
        loaded.Counters.AsSpan(0, n).CopyTo(_counters);
        loaded.Policy.AsSpan(0, n).CopyTo(_policy);
        loaded.Probes.AsSpan(0, Math.Min(n, loaded.Probes.Length)).CopyTo(_probes);
        for (int d = 0; d < Count; d++)
        {
            _counters[d].Identity = loaded.Samples[d].Identity;
            if (_counters[d].CycleObservations > 0) _cycleObserved.Add(d);
        }
        foreach (var (name, _, data) in loaded.Curves)
        {
            if (name == GlobalCurve.Name) ReplaceCurve(name, data, _options.CurvePoints, c => GlobalCurve = c);
            else if (name.StartsWith("identity:", StringComparison.Ordinal))
            {
                int g = _identities.IndexOf(name["identity:".Length..]);
                if (g >= 0) ReplaceCurve(name, data, _options.IdentityCurvePoints, c => _identityCurves[g] = c);
            }
            else if (name.StartsWith("worker:", StringComparison.Ordinal))
            {
                int w = _workers.IndexOf(name["worker:".Length..]);
                if (w >= 0) ReplaceCurve(name, data, _options.CurvePoints, c => _workerCurves[w] = c);
            }
            else if (name.StartsWith("validation:", StringComparison.Ordinal))
                ReplaceCurve(name, data, _options.CurvePoints, c => { _validationCurves.RemoveAll(v => v.Name == name); _validationCurves.Add(c); });
        }
        var m = loaded.Meta;
        Observations = Long(m, "observations");
        Steps = Long(m, "steps");
        IncompleteSteps = Long(m, "incomplete_steps");
        LateReports = Long(m, "late_reports");
        NonFinite = Long(m, "non_finite");
        RawReports = Long(m, "raw_reports");
        Seq = loaded.Seq;
        LastStep = Long(m, "last_step", -1);
        Cycles = Long(m, "cycles");
        LastCycle = Long(m, "last_cycle", -1);
        LastCloseStep = Long(m, "last_close_step", -1);
        LastGlobalLoss = m.TryGetValue("last_global_loss", out var lg) && lg is double dl ? dl : double.NaN;
        ManifestHash = m.TryGetValue("manifest_hash", out var mh) ? Convert.ToString(mh, CultureInfo.InvariantCulture) ?? "" : "";
        if (m.TryGetValue("pending", out var pending) && pending is byte[] bytes && bytes.Length > 0) _steps.Restore(bytes, Count);
        // What was loaded is what ledger.db holds: nothing to write back.
        ForgetChanges();
    }

    /// <summary>Names added while the log was replayed are in ledger.db already.</summary>
    public void ForgetNewNames()
    {
        _newIdentities.Clear();
        _newWorkers.Clear();
    }

    private void ForgetChanges()
    {
        ForgetNewNames();
        _infoDirty.Clear();
        SnapshotWritten();
        foreach (var c in _identityCurves.Append(GlobalCurve).Concat(_workerCurves).Concat(_validationCurves)) c.Dirty = false;
    }

    private static void ReplaceCurve(string name, byte[] data, int points, Action<CurveSeries> set)
    {
        try { set(CurveSeries.Deserialize(name, points, data)); }
        catch (InvalidDataException) { /* a damaged curve is dropped, not fatal: it is a view, not data */ }
    }

    private static long Long(Dictionary<string, object> meta, string key, long fallback = 0) =>
        meta.TryGetValue(key, out var v) && v is not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : fallback;
}
