using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Coordinator.Ledger;

/// <summary>
/// The ledger's memory: per sample, arrays indexed by a dense index (the fields touched by every observation sit
/// together in <see cref="Counters"/>; status, policy memory, ids and paths in their own arrays); identities,
/// workers, loss curves, totals; and the steps still waiting for reports.
/// <para><b>Relative loss.</b> A step is finalized when all the reports it announced have arrived (or it is stale:
/// its cycle closed, or a report <c>StaleAfterSteps</c> newer arrived). Then every loss of the step's global batch
/// is divided by the median loss of that batch: relative = loss / median. All replicas have the same weights at a
/// step, so the median is the typical loss of the model at that moment; dividing by it removes the downward trend
/// of training (a sample is only ever compared with the samples of its own steps), and the median, unlike the
/// mean, is not pulled up by the very outliers being looked for. A ratio, not a difference, because losses shrink
/// several-fold over training and a ratio keeps its meaning while they do. Steps with fewer than MinStepRecords
/// finite losses, or a median of zero, give no relative losses.</para>
/// <para><b>Area under the relative-loss curve.</b> Σ (relative − 1) over a sample's observations: 0 for a sample
/// that is always typical, growing by the excess at every observation for a persistently high one, and only once
/// for a single spike.</para>
/// </summary>
internal sealed class LedgerState
{
    public const string UnregisteredIdentity = "(unregistered)";
    private const int MedianMemory = 4096;

    private readonly LedgerOptions _options;
    private readonly float _alpha;
    private readonly Dictionary<string, int> _identityIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _workerIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<long, PendingStep> _pending = new();
    private readonly Stack<PendingStep> _free = new();
    private readonly Dictionary<long, float> _medians = new();
    private readonly Queue<long> _medianOrder = new();
    private ulong[] _dirtyBits = [];
    private float[] _scratch = new float[1024];
    private double[] _stepIdentitySum = [];
    private int[] _stepIdentityCount = [];
    private readonly List<int> _touched = new();

    public LedgerState(LedgerOptions options)
    {
        _options = options;
        _alpha = (float)options.Policy.ObservationSmoothing;
        GlobalCurve = new CurveSeries("global", options.CurvePoints);
        for (int i = 0; i < ByStatus.Length; i++) ByStatus[i] = new HashSet<int>();
    }

    // ---------------------------------------------------------------- samples

    public int Count { get; private set; }
    public SampleCounters[] Counters = [];
    public int[] Ids = [];
    public string[] Paths = [];
    public SampleStatus[] Status = [];
    public long[] StatusCycle = [];
    public string[] Reasons = [];
    public SamplePolicyState[] Policy = [];
    public ProbeCounters[] Probes = [];
    public bool[] Registered = [];
    public readonly SampleIdMap IdMap = new();

    /// <summary>Dense indices per status (the Active set is not kept: everything else is active).</summary>
    public readonly HashSet<int>[] ByStatus = new HashSet<int>[6];

    /// <summary>Samples whose statistics changed since the last snapshot.</summary>
    public readonly List<int> Dirty = new();

    /// <summary>Samples whose row in the samples table changed since the last flush.</summary>
    public readonly HashSet<int> InfoDirty = new();

    /// <summary>Samples with relative observations in the open cycle.</summary>
    public readonly List<int> CycleObserved = new();

    public int RegisteredCount { get; private set; }
    public int UnregisteredCount { get; private set; }

    // ---------------------------------------------------------------- identities, workers, curves

    public readonly List<string> Identities = new();
    public readonly List<CurveSeries> IdentityCurves = new();
    public readonly List<int> NewIdentities = new();
    public readonly List<string> Workers = new();
    public readonly List<long> WorkerRecords = new();
    public readonly List<double> WorkerSumLoss = new();
    public readonly List<CurveSeries> WorkerCurves = new();
    public readonly List<int> NewWorkers = new();
    public CurveSeries GlobalCurve { get; private set; }

    public void GlobalCurveReplace(CurveSeries curve) => GlobalCurve = curve;

    // ---------------------------------------------------------------- totals

    public long Observations;
    public long Steps;
    public long IncompleteSteps;
    public long LateReports;
    public long NonFinite;
    public long RawReports;
    /// <summary>Sequence number of the newest report applied.</summary>
    public long Seq = -1;
    public long LastStep = -1;
    public long Cycles;
    public long LastCycle = -1;
    public long LastCloseStep = -1;
    public double LastGlobalLoss = double.NaN;
    private long _lastFinalizedStep = -1;
    public string ManifestHash = "";

    /// <summary>Steps finalized since the store last took them.</summary>
    public readonly List<StepRow> FinalizedSteps = new();

    public int PendingSteps => _pending.Count;

    // ---------------------------------------------------------------- registration

    public int IdentityIndex(string name)
    {
        if (_identityIndex.TryGetValue(name, out int index)) return index;
        index = Identities.Count;
        Identities.Add(name);
        _identityIndex[name] = index;
        IdentityCurves.Add(new CurveSeries("identity:" + name, _options.IdentityCurvePoints));
        NewIdentities.Add(index);
        if (_stepIdentitySum.Length <= index)
        {
            Array.Resize(ref _stepIdentitySum, Math.Max(16, index * 2));
            Array.Resize(ref _stepIdentityCount, Math.Max(16, index * 2));
        }
        return index;
    }

    public int WorkerIndex(string name)
    {
        if (_workerIndex.TryGetValue(name, out int index)) return index;
        index = Workers.Count;
        Workers.Add(name);
        WorkerRecords.Add(0);
        WorkerSumLoss.Add(0);
        WorkerCurves.Add(new CurveSeries("worker:" + name, _options.CurvePoints));
        _workerIndex[name] = index;
        NewWorkers.Add(index);
        return index;
    }

    private void EnsureCapacity(int n)
    {
        if (n <= Counters.Length) return;
        int size = Math.Max(n, Math.Max(1024, Counters.Length * 2));
        Array.Resize(ref Counters, size);
        Array.Resize(ref Ids, size);
        Array.Resize(ref Paths, size);
        Array.Resize(ref Status, size);
        Array.Resize(ref StatusCycle, size);
        Array.Resize(ref Reasons, size);
        int old = Policy.Length;
        Array.Resize(ref Policy, size);
        Policy.AsSpan(old).Fill(SamplePolicyState.Initial);
        Array.Resize(ref Probes, size);
        Probes.AsSpan(old).Fill(ProbeCounters.Initial);
        Array.Resize(ref Registered, size);
        Array.Resize(ref _dirtyBits, (size + 63) / 64);
    }

    public int AddSample(int id, int identity, string path, bool registered)
    {
        int d = Count;
        EnsureCapacity(d + 1);
        Count = d + 1;
        Ids[d] = id;
        Paths[d] = path;
        Status[d] = SampleStatus.Active;
        StatusCycle[d] = -1;
        Reasons[d] = "";
        Policy[d] = SamplePolicyState.Initial;
        Probes[d] = ProbeCounters.Initial;
        Registered[d] = registered;
        Counters[d] = new SampleCounters { Identity = identity, LastStep = -1 };
        IdMap.Add(id, d, Count);
        if (registered) RegisteredCount++; else UnregisteredCount++;
        InfoDirty.Add(d);
        MarkDirty(d);
        return d;
    }

    /// <summary>Merges a registration: new samples are added, known ones get their identity and path updated, samples not in it stay (unregistered).</summary>
    public (int Added, int Updated, int Dropped) Register(RegisterFaceSet m)
    {
        int n = m.SampleIds.Length;
        if (m.IdentityOfSample.Length != n || m.RelativePaths.Length != n)
            throw new Common.Errors.FaceClusterException($"RegisterFaceSet has {n} sample ids but {m.IdentityOfSample.Length} identities and {m.RelativePaths.Length} paths");
        var identityMap = new int[m.IdentityNames.Length];
        for (int i = 0; i < identityMap.Length; i++) identityMap[i] = IdentityIndex(m.IdentityNames[i]);
        EnsureCapacity(Count + n);
        var seen = new bool[Count + n];
        int added = 0, updated = 0;
        for (int k = 0; k < n; k++)
        {
            int g = m.IdentityOfSample[k];
            if ((uint)g >= (uint)identityMap.Length)
                throw new Common.Errors.FaceClusterException($"RegisterFaceSet: sample {m.SampleIds[k]} names identity {g} of {identityMap.Length}");
            int identity = identityMap[g];
            string path = m.RelativePaths[k];
            if (IdMap.TryGet(m.SampleIds[k], out int d))
            {
                if (Counters[d].Identity != identity || Paths[d] != path || !Registered[d])
                {
                    Counters[d].Identity = identity;
                    Paths[d] = path;
                    if (!Registered[d]) { Registered[d] = true; RegisteredCount++; UnregisteredCount--; }
                    InfoDirty.Add(d);
                    MarkDirty(d);
                    updated++;
                }
            }
            else
            {
                d = AddSample(m.SampleIds[k], identity, path, true);
                added++;
            }
            seen[d] = true;
        }
        int dropped = 0;
        for (int d = 0; d < Count; d++)
            if (Registered[d] && !seen[d])
            {
                Registered[d] = false;
                RegisteredCount--; UnregisteredCount++;
                InfoDirty.Add(d);
                dropped++;
            }
        ManifestHash = m.ManifestHash;
        return (added, updated, dropped);
    }

    public void SetStatus(int d, SampleStatus status, long cycle, string reason)
    {
        var old = Status[d];
        if (old != SampleStatus.Active) ByStatus[(int)old].Remove(d);
        if (status != SampleStatus.Active) ByStatus[(int)status].Add(d);
        Status[d] = status;
        StatusCycle[d] = cycle;
        Reasons[d] = reason;
        InfoDirty.Add(d);
    }

    /// <summary>Restores the per-status sets after a load.</summary>
    public void RebuildStatusSets()
    {
        foreach (var set in ByStatus) set.Clear();
        for (int d = 0; d < Count; d++)
            if (Status[d] != SampleStatus.Active) ByStatus[(int)Status[d]].Add(d);
    }

    public void MarkDirty(int d)
    {
        ref ulong word = ref _dirtyBits[d >> 6];
        ulong bit = 1UL << (d & 63);
        if ((word & bit) != 0) return;
        word |= bit;
        Dirty.Add(d);
    }

    public void ClearDirty()
    {
        foreach (int d in Dirty) _dirtyBits[d >> 6] &= ~(1UL << (d & 63));
        Dirty.Clear();
    }

    public SampleInfoRow InfoRow(int d) => new(d, Ids[d], Counters[d].Identity, Paths[d], Registered[d], Status[d], StatusCycle[d], Reasons[d]);

    // ---------------------------------------------------------------- loss reports

    /// <summary>Takes one report: buffers it with its step, finalizing the step when complete, and stale steps.</summary>
    /// <summary>Total identity probes recorded, and probes of unknown samples or with non-finite losses (dropped).</summary>
    public long ProbeRecords, ProbesDropped;

    /// <summary>Records identity-probe losses; samples the ledger does not know are counted and dropped.</summary>
    public void IngestProbe(ProbeReport r, long seq)
    {
        Seq = seq;
        float smoothing = (float)_options.Policy.ProbeSmoothing;
        int n = Math.Min(r.SampleIds.Length, Math.Min(r.OwnLosses.Length, r.OtherLosses.Length));
        for (int k = 0; k < n; k++)
        {
            if (!IdMap.TryGet(r.SampleIds[k], out int d) || !Probes[d].Record(r.OwnLosses[k], r.OtherLosses[k], r.Cycle, smoothing))
            {
                ProbesDropped++;
                continue;
            }
            ProbeRecords++;
            MarkDirty(d);
        }
    }

    public void Ingest(LossReport r, int worker, long seq)
    {
        Seq = seq;
        RawReports++;
        if (_pending.TryGetValue(r.Step, out var step))
        {
            Append(step, r, worker, seq);
        }
        else if (_medians.TryGetValue(r.Step, out float median))
        {
            // Its step was finalized without it (stale): compare it with that step's median.
            var late = Rent(r.Step, r.Cycle, r.ReportsInStep);
            Append(late, r, worker, seq);
            Apply(late, median, complete: false, isLate: true);
            LateReports++;
            Return(late);
            return;
        }
        else
        {
            step = Rent(r.Step, r.Cycle, r.ReportsInStep);
            _pending[r.Step] = step;
            Append(step, r, worker, seq);
        }
        if (step.Reports >= step.Expected) Finalize(step);
        if (r.Step > LastStep)
        {
            LastStep = r.Step;
            if (_pending.Count > 0) FinalizeWhere(p => p.Step < LastStep - _options.StaleAfterSteps);
        }
    }

    /// <summary>Finalizes every pending step of cycle <paramref name="cycle"/> or earlier (the cycle is over: they are stale).</summary>
    public void FinalizeUpTo(long cycle) => FinalizeWhere(p => p.Cycle <= cycle);

    private void FinalizeWhere(Func<PendingStep, bool> stale)
    {
        List<PendingStep>? due = null;
        foreach (var p in _pending.Values)
            if (stale(p)) (due ??= new()).Add(p);
        if (due == null) return;
        foreach (var p in due.OrderBy(p => p.Step)) Finalize(p);
    }

    private void Append(PendingStep step, LossReport r, int worker, long seq)
    {
        int n = r.SampleIds.Length;
        int at = step.Count;
        step.Grow(at + n);
        var dense = step.Dense;
        for (int k = 0; k < n; k++)
        {
            int id = r.SampleIds[k];
            if (!IdMap.TryGet(id, out int d)) d = AddSample(id, IdentityIndex(UnregisteredIdentity), "", registered: false);
            dense[at + k] = d;
        }
        r.Losses.AsSpan(0, n).CopyTo(step.Loss.AsSpan(at));
        step.Count = at + n;
        step.Parts.Add((worker, at, n));
        step.Reports++;
        step.LastSeq = seq;
    }

    private void Finalize(PendingStep step)
    {
        _pending.Remove(step.Step);
        int finite = 0;
        if (_scratch.Length < step.Count) _scratch = new float[Math.Max(step.Count, _scratch.Length * 2)];
        var losses = step.Loss.AsSpan(0, step.Count);
        foreach (float l in losses)
            if (float.IsFinite(l)) _scratch[finite++] = l;
        float median = finite >= _options.MinStepRecords ? Median(_scratch.AsSpan(0, finite)) : float.NaN;
        Apply(step, median, complete: step.Reports >= step.Expected, isLate: false);
        Steps++;
        if (step.Reports < step.Expected) IncompleteSteps++;
        if (float.IsFinite(median))
        {
            _medians[step.Step] = median;
            _medianOrder.Enqueue(step.Step);
            while (_medianOrder.Count > MedianMemory) _medians.Remove(_medianOrder.Dequeue());
        }
        Return(step);
    }

    /// <summary>Records every finite loss of the step (relative to <paramref name="median"/> when it is usable) and its curve points.</summary>
    private void Apply(PendingStep step, float median, bool complete, bool isLate)
    {
        bool relative = median > 1e-30f && float.IsFinite(median);
        float inv = relative ? 1f / median : 0f;
        float a = _alpha;
        int stepInt = (int)Math.Clamp(step.Step, int.MinValue, int.MaxValue);
        var counters = Counters;
        var dense = step.Dense;
        var loss = step.Loss;
        double sum = 0;
        int finite = 0;
        _touched.Clear();
        for (int k = 0; k < step.Count; k++)
        {
            float l = loss[k];
            if (!float.IsFinite(l)) { NonFinite++; continue; }
            int d = dense[k];
            ref var c = ref counters[d];
            c.Observations++;
            c.LastLoss = l;
            c.EmaLoss = c.Observations == 1 ? l : c.EmaLoss + a * (l - c.EmaLoss);
            c.LastStep = stepInt;
            if (relative)
            {
                float r = l * inv;
                float lr = MathF.Log(MathF.Max(r, 1e-6f));
                if (c.RelObservations == 0) { c.SmoothedLog = lr; c.SmoothedLogSq = lr * lr; }
                else { c.SmoothedLog += a * (lr - c.SmoothedLog); c.SmoothedLogSq += a * (lr * lr - c.SmoothedLogSq); }
                c.RelObservations++;
                c.Auc += r - 1f;
                if (c.CycleObservations == 0) CycleObserved.Add(d);
                c.CycleObservations++;
                c.CycleSumLog += lr;
                c.CycleSumLoss += l;
            }
            int g = c.Identity;
            _stepIdentitySum[g] += l;
            if (_stepIdentityCount[g]++ == 0) _touched.Add(g);
            MarkDirty(d);
            sum += l;
            finite++;
        }
        Observations += finite;
        foreach (int g in _touched)
        {
            IdentityCurves[g].Add(step.Step, _stepIdentitySum[g], _stepIdentityCount[g]);
            _stepIdentitySum[g] = 0;
            _stepIdentityCount[g] = 0;
        }
        foreach (var (worker, offset, count) in step.Parts)
        {
            double ws = 0; int wn = 0;
            foreach (float l in loss.AsSpan(offset, count))
                if (float.IsFinite(l)) { ws += l; wn++; }
            WorkerRecords[worker] += wn;
            WorkerSumLoss[worker] += ws;
            WorkerCurves[worker].Add(step.Step, ws, wn);
        }
        GlobalCurve.Add(step.Step, sum, finite);
        if (finite > 0 && step.Step >= _lastFinalizedStep && !isLate)
        {
            _lastFinalizedStep = step.Step;
            LastGlobalLoss = sum / finite;
        }
        FinalizedSteps.Add(new StepRow(step.Step, step.Cycle, step.Reports, step.Expected, step.Count, median,
            finite > 0 ? (float)(sum / finite) : float.NaN, complete, isLate, step.LastSeq));
    }

    /// <summary>Zeroes the open cycle's accumulators (after the cycle's rows were taken).</summary>
    public void ResetCycle()
    {
        foreach (int d in CycleObserved)
        {
            ref var c = ref Counters[d];
            c.CycleObservations = 0;
            c.CycleSumLog = 0;
            c.CycleSumLoss = 0;
            MarkDirty(d);
        }
        CycleObserved.Clear();
    }

    /// <summary>Rebuilds the list of samples seen in the open cycle after a load.</summary>
    public void RebuildCycleObserved()
    {
        CycleObserved.Clear();
        for (int d = 0; d < Count; d++)
            if (Counters[d].CycleObservations > 0) CycleObserved.Add(d);
    }

    // ---------------------------------------------------------------- pending steps in snapshots

    /// <summary>The steps waiting for reports and the recent medians, as bytes for a snapshot.</summary>
    public byte[] SerializePending()
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(_pending.Count);
        foreach (var p in _pending.Values.OrderBy(p => p.Step))
        {
            w.Write(p.Step); w.Write(p.Cycle); w.Write(p.Expected); w.Write(p.Reports); w.Write(p.LastSeq);
            w.Write(p.Parts.Count);
            foreach (var (worker, offset, count) in p.Parts) { w.Write(worker); w.Write(offset); w.Write(count); }
            w.Write(p.Count);
            for (int k = 0; k < p.Count; k++) w.Write(p.Dense[k]);
            for (int k = 0; k < p.Count; k++) w.Write(p.Loss[k]);
        }
        w.Write(_medianOrder.Count);
        foreach (long s in _medianOrder) { w.Write(s); w.Write(_medians[s]); }
        w.Write(_lastFinalizedStep);
        w.Flush();
        return ms.ToArray();
    }

    public void RestorePending(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        int steps = r.ReadInt32();
        for (int i = 0; i < steps; i++)
        {
            var p = Rent(r.ReadInt64(), r.ReadInt64(), r.ReadInt32());
            p.Reports = r.ReadInt32();
            p.LastSeq = r.ReadInt64();
            int parts = r.ReadInt32();
            for (int k = 0; k < parts; k++) p.Parts.Add((r.ReadInt32(), r.ReadInt32(), r.ReadInt32()));
            int n = r.ReadInt32();
            p.Grow(n);
            p.Count = n;
            for (int k = 0; k < n; k++)
            {
                int d = r.ReadInt32();
                if ((uint)d >= (uint)Count) throw new InvalidDataException($"pending step {p.Step} names sample {d} of {Count}");
                p.Dense[k] = d;
            }
            for (int k = 0; k < n; k++) p.Loss[k] = r.ReadSingle();
            _pending[p.Step] = p;
        }
        int medians = r.ReadInt32();
        for (int i = 0; i < medians; i++)
        {
            long s = r.ReadInt64();
            _medians[s] = r.ReadSingle();
            _medianOrder.Enqueue(s);
        }
        _lastFinalizedStep = r.ReadInt64();
    }

    // ---------------------------------------------------------------- helpers

    private PendingStep Rent(long step, long cycle, int expected)
    {
        var p = _free.Count > 0 ? _free.Pop() : new PendingStep();
        p.Step = step;
        p.Cycle = cycle;
        p.Expected = Math.Max(1, expected);
        p.Reports = 0;
        p.Count = 0;
        p.LastSeq = 0;
        p.Parts.Clear();
        return p;
    }

    private void Return(PendingStep p)
    {
        if (_free.Count < 256) _free.Push(p);
    }

    internal static float Median(Span<float> a) => Medians.Of(a);

    private sealed class PendingStep
    {
        public long Step;
        public long Cycle;
        public int Expected;
        public int Reports;
        public long LastSeq;
        public int Count;
        public int[] Dense = new int[256];
        public float[] Loss = new float[256];
        public readonly List<(int Worker, int Offset, int Count)> Parts = new();

        public void Grow(int n)
        {
            if (n <= Dense.Length) return;
            int size = Math.Max(n, Dense.Length * 2);
            Array.Resize(ref Dense, size);
            Array.Resize(ref Loss, size);
        }
    }
}
