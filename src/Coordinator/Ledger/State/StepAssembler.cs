using FaceCluster.Common.Statistics;

namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>
/// The steps still waiting for reports, and the medians of the steps finalized recently (a report that arrives after
/// its step was finalized is compared with that step's median). Part of <see cref="LedgerState"/>, which applies the
/// steps this assembler hands it.
/// </summary>
internal sealed class StepAssembler
{
    private const int MedianMemory = 4096;
    private readonly int _minStepRecords;
    private readonly Dictionary<long, PendingStep> _pending = new();
    private readonly Stack<PendingStep> _free = new();
    private readonly Dictionary<long, float> _medians = new();
    private readonly Queue<long> _medianOrder = new();
    private float[] _scratch = new float[1024];

    public StepAssembler(int minStepRecords) => _minStepRecords = minStepRecords;

    public int PendingCount => _pending.Count;

    /// <summary>The newest step whose loss set the ledger's last global loss.</summary>
    public long LastFinalizedStep { get; set; } = -1;

    public bool TryGetPending(long step, out PendingStep pending) => _pending.TryGetValue(step, out pending!);

    /// <summary>The median of a step finalized recently (NaN steps are not remembered).</summary>
    public bool TryGetMedian(long step, out float median) => _medians.TryGetValue(step, out median);

    /// <summary>A new pending step.</summary>
    public PendingStep Open(long step, long cycle, int expected)
    {
        var p = Rent(step, cycle, expected);
        _pending[step] = p;
        return p;
    }

    /// <summary>A step record outside the pending set (for a late report), to be given back with <see cref="Return"/>.</summary>
    public PendingStep Rent(long step, long cycle, int expected)
    {
        var p = _free.Count > 0 ? _free.Pop() : new PendingStep();
        p.Reset(step, cycle, expected);
        return p;
    }

    public void Return(PendingStep p)
    {
        if (_free.Count < 256) _free.Push(p);
    }

    /// <summary>
    /// Takes a step out of the pending set and returns the median of its finite losses: NaN with fewer than the
    /// minimum records. A usable median is remembered for late reports.
    /// </summary>
    public float Close(PendingStep step)
    {
        _pending.Remove(step.Step);
        int finite = 0;
        if (_scratch.Length < step.Count) _scratch = new float[Math.Max(step.Count, _scratch.Length * 2)];
        foreach (float l in step.Loss.AsSpan(0, step.Count))
            if (float.IsFinite(l)) _scratch[finite++] = l;
        float median = finite >= _minStepRecords ? Medians.Of(_scratch.AsSpan(0, finite)) : float.NaN;
        if (float.IsFinite(median))
        {
            _medians[step.Step] = median;
            _medianOrder.Enqueue(step.Step);
            while (_medianOrder.Count > MedianMemory) _medians.Remove(_medianOrder.Dequeue());
        }
        return median;
    }

    /// <summary>The pending steps that <paramref name="stale"/> selects, oldest first.</summary>
    public List<PendingStep> Due(Func<PendingStep, bool> stale)
    {
        var due = new List<PendingStep>();
        foreach (var p in _pending.Values)
            if (stale(p)) due.Add(p);
        due.Sort((a, b) => a.Step.CompareTo(b.Step));
        return due;
    }

    /// <summary>The pending steps, the recent medians and the last finalized step, as bytes for a snapshot.</summary>
    public byte[] Serialize()
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
        w.Write(LastFinalizedStep);
        w.Flush();
        return ms.ToArray();
    }

    /// <summary>Adopts what <see cref="Serialize"/> wrote; a dense index at or beyond <paramref name="samples"/> is damage.</summary>
    public void Restore(byte[] bytes, int samples)
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
                if ((uint)d >= (uint)samples) throw new InvalidDataException($"pending step {p.Step} names sample {d} of {samples}");
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
        LastFinalizedStep = r.ReadInt64();
    }
}
