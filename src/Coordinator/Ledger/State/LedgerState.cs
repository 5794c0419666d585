using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Store;

namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>
/// The ledger's memory, and the only writer of it. Per sample, arrays indexed by a dense index: the loss statistics
/// (<see cref="SampleCounters"/>), the policy's memory, the identity-probe statistics, status, id and path; then
/// identities, workers, loss curves, totals, and the steps still waiting for reports (<see cref="StepAssembler"/>).
/// Others read it through read-only views and change it through its methods: loss reports and probes go in
/// (<see cref="Ingest"/>, <see cref="IngestProbe"/>), the policy's outcomes and status changes are applied
/// (<see cref="ApplyOutcome"/>, <see cref="ChangeStatus"/>), a cycle closes (<see cref="CloseCycle"/>), and the
/// store takes what changed (<see cref="TakeSnapshot"/>) or hands back what it read (<see cref="LoadSnapshot"/>).
/// How relative losses and their averages are computed: docs/CURATION.md.
/// </summary>
internal sealed partial class LedgerState
{
    public const string UnregisteredIdentity = "(unregistered)";

    private readonly LedgerOptions _options;
    private readonly float _alpha;
    private readonly int _earlyObservations;
    private readonly StepAssembler _steps;
    private readonly Dictionary<string, int> _identityIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _workerIndex = new(StringComparer.Ordinal);
    private readonly SampleIdMap _idMap = new();
    private readonly HashSet<int>[] _byStatus = new HashSet<int>[6];
    private readonly List<int> _dirty = new();
    private readonly HashSet<int> _infoDirty = new();
    private readonly List<int> _cycleObserved = new();
    private readonly List<string> _identities = new();
    private readonly List<CurveSeries> _identityCurves = new();
    private readonly List<int> _newIdentities = new();
    private readonly List<string> _workers = new();
    private readonly List<long> _workerRecords = new();
    private readonly List<double> _workerSumLoss = new();
    private readonly List<CurveSeries> _workerCurves = new();
    private readonly List<int> _newWorkers = new();
    private readonly List<StepRow> _finalizedSteps = new();
    private SampleCounters[] _counters = [];
    private int[] _ids = [];
    private string[] _paths = [];
    private SampleStatus[] _status = [];
    private long[] _statusCycle = [];
    private string[] _reasons = [];
    private SamplePolicyState[] _policy = [];
    private ProbeCounters[] _probes = [];
    private readonly ProbeLatents _latents = new();
    private bool[] _registered = [];
    private ulong[] _dirtyBits = [];

    public LedgerState(LedgerOptions options)
    {
        _options = options;
        _alpha = (float)options.Policy.ObservationSmoothing;
        _earlyObservations = options.Policy.EarlyObservations;
        _steps = new StepAssembler(options.MinStepRecords);
        GlobalCurve = new CurveSeries("global", options.CurvePoints);
        for (int i = 0; i < _byStatus.Length; i++) _byStatus[i] = new HashSet<int>();
    }

    // ---------------------------------------------------------------- read-only views

    public int Count { get; private set; }
    public ReadOnlySpan<SampleCounters> Counters => _counters.AsSpan(0, Count);
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, Count);
    public ReadOnlySpan<string> Paths => _paths.AsSpan(0, Count);
    public ReadOnlySpan<SampleStatus> Status => _status.AsSpan(0, Count);
    public ReadOnlySpan<long> StatusCycle => _statusCycle.AsSpan(0, Count);
    public ReadOnlySpan<string> Reasons => _reasons.AsSpan(0, Count);
    public ReadOnlySpan<SamplePolicyState> Policy => _policy.AsSpan(0, Count);
    public ReadOnlySpan<ProbeCounters> Probes => _probes.AsSpan(0, Count);

    /// <summary>Each sample's latent vector from its newest identity probe (see <see cref="ProbeLatents"/>).</summary>
    public ProbeLatents Latents => _latents;
    public ReadOnlySpan<bool> Registered => _registered.AsSpan(0, Count);

    /// <summary>True when the run's face check found no face where the set's faces are in sample <paramref name="dense"/>'s image.</summary>
    public bool NoFace(int dense) => _options.NoFaceSamples?.Contains(_ids[dense]) == true;

    /// <summary>Sample <paramref name="dense"/>'s texture outlier score from the run's texture check; NaN where it has none.</summary>
    public (float Z, float Ratio) Texture(int dense) =>
        _options.TextureScores is { } scores && scores.TryGetValue(_ids[dense], out var t) ? ((float)t.Z, (float)t.Ratio) : (float.NaN, float.NaN);

    /// <summary>True when the run's face check ran.</summary>
    public bool FaceChecked => _options.NoFaceSamples is not null;

    /// <summary>The dense index of a manifest sample id.</summary>
    public bool TryGetDense(int id, out int dense) => _idMap.TryGet(id, out dense);

    /// <summary>The dense indices with a status other than Active (everything else is active).</summary>
    public IReadOnlySet<int> InStatus(SampleStatus status) => _byStatus[(int)status];

    /// <summary>Samples with relative observations in the open cycle, in the order they were first seen in it.</summary>
    public IReadOnlyList<int> CycleObserved => _cycleObserved;

    public int RegisteredCount { get; private set; }
    public int UnregisteredCount { get; private set; }

    public IReadOnlyList<string> Identities => _identities;
    public IReadOnlyList<CurveSeries> IdentityCurves => _identityCurves;
    public IReadOnlyList<string> Workers => _workers;
    public IReadOnlyList<long> WorkerRecords => _workerRecords;
    public IReadOnlyList<double> WorkerSumLoss => _workerSumLoss;
    public IReadOnlyList<CurveSeries> WorkerCurves => _workerCurves;

    private readonly List<CurveSeries> _validationCurves = new();

    /// <summary>The checkpoints' validation figures, one curve per figure name ("validation:" + name).</summary>
    public IReadOnlyList<CurveSeries> ValidationCurves => _validationCurves;

    /// <summary>One checkpoint's figure on the validation split.</summary>
    public void AddValidation(long step, string name, double value)
    {
        if (!double.IsFinite(value)) return;
        string curve = "validation:" + name;
        var series = _validationCurves.FirstOrDefault(c => c.Name == curve);
        if (series == null) _validationCurves.Add(series = new CurveSeries(curve, _options.CurvePoints));
        series.Add(step, value, 1);
    }
    public CurveSeries GlobalCurve { get; private set; }

    public long Observations { get; private set; }
    public long Steps { get; private set; }
    public long IncompleteSteps { get; private set; }
    public long LateReports { get; private set; }
    public long NonFinite { get; private set; }
    public long RawReports { get; private set; }
    /// <summary>Sequence number of the newest log entry (report, probe, cycle close, command) applied.</summary>
    public long Seq { get; private set; } = -1;
    public long LastStep { get; private set; } = -1;
    public long Cycles { get; private set; }
    public long LastCycle { get; private set; } = -1;
    public long LastCloseStep { get; private set; } = -1;
    public double LastGlobalLoss { get; private set; } = double.NaN;
    public string ManifestHash { get; private set; } = "";
    public int PendingSteps => _steps.PendingCount;

    /// <summary>The name of a sample's identity ("" for an index out of range).</summary>
    public string IdentityName(int d)
    {
        int g = _counters[d].Identity;
        return g >= 0 && g < _identities.Count ? _identities[g] : "";
    }

    public SampleInfoRow InfoRow(int d) => new(d, _ids[d], _counters[d].Identity, _paths[d], _registered[d], _status[d], _statusCycle[d], _reasons[d]);

    // ---------------------------------------------------------------- registration

    public int IdentityIndex(string name)
    {
        if (_identityIndex.TryGetValue(name, out int index)) return index;
        index = _identities.Count;
        _identities.Add(name);
        _identityIndex[name] = index;
        _identityCurves.Add(new CurveSeries("identity:" + name, _options.IdentityCurvePoints));
        _newIdentities.Add(index);
        return index;
    }

    /// <summary>The name of a worker index (as <see cref="WorkerIndex"/> gave it).</summary>
    public string WorkerName(int index) => _workers[index];

    public int WorkerIndex(string name)
    {
        if (_workerIndex.TryGetValue(name, out int index)) return index;
        index = _workers.Count;
        _workers.Add(name);
        _workerRecords.Add(0);
        _workerSumLoss.Add(0);
        _workerCurves.Add(new CurveSeries("worker:" + name, _options.CurvePoints));
        _workerIndex[name] = index;
        _newWorkers.Add(index);
        return index;
    }

    private void EnsureCapacity(int n)
    {
        if (n <= _counters.Length) return;
        int size = Math.Max(n, Math.Max(1024, _counters.Length * 2));
        Array.Resize(ref _counters, size);
        Array.Resize(ref _ids, size);
        Array.Resize(ref _paths, size);
        Array.Resize(ref _status, size);
        Array.Resize(ref _statusCycle, size);
        Array.Resize(ref _reasons, size);
        int old = _policy.Length;
        Array.Resize(ref _policy, size);
        _policy.AsSpan(old).Fill(SamplePolicyState.Initial);
        Array.Resize(ref _probes, size);
        _probes.AsSpan(old).Fill(ProbeCounters.Initial);
        Array.Resize(ref _registered, size);
        Array.Resize(ref _dirtyBits, (size + 63) / 64);
    }

    private int AddSample(int id, int identity, string path, bool registered)
    {
        int d = Count;
        EnsureCapacity(d + 1);
        Count = d + 1;
        _ids[d] = id;
        _paths[d] = path;
        _status[d] = SampleStatus.Active;
        _statusCycle[d] = -1;
        _reasons[d] = "";
        _policy[d] = SamplePolicyState.Initial;
        _probes[d] = ProbeCounters.Initial;
        _registered[d] = registered;
        _counters[d] = new SampleCounters { Identity = identity, LastStep = -1 };
        _idMap.Add(id, d, Count);
        if (registered) RegisteredCount++; else UnregisteredCount++;
        _infoDirty.Add(d);
        MarkDirty(d);
        return d;
    }

    /// <summary>Merges a registration: new samples are added, known ones get their identity and path updated, samples not in it stay (unregistered).</summary>
    public (int Added, int Updated, int Dropped) Register(RegisterFaceSet m)
    {
        int n = m.SampleIds.Length;
        if (m.IdentityOfSample.Length != n || m.RelativePaths.Length != n)
            throw new FaceClusterException($"RegisterFaceSet has {n} sample ids but {m.IdentityOfSample.Length} identities and {m.RelativePaths.Length} paths");
        var identityMap = new int[m.IdentityNames.Length];
        for (int i = 0; i < identityMap.Length; i++) identityMap[i] = IdentityIndex(m.IdentityNames[i]);
        EnsureCapacity(Count + n);
        var seen = new bool[Count + n];
        int added = 0, updated = 0;
        for (int k = 0; k < n; k++)
        {
            int g = m.IdentityOfSample[k];
            if ((uint)g >= (uint)identityMap.Length)
                throw new FaceClusterException($"RegisterFaceSet: sample {m.SampleIds[k]} names identity {g} of {identityMap.Length}");
            int identity = identityMap[g];
            string path = m.RelativePaths[k];
            if (_idMap.TryGet(m.SampleIds[k], out int d))
            {
                if (_counters[d].Identity != identity || _paths[d] != path || !_registered[d])
                {
                    _counters[d].Identity = identity;
                    _paths[d] = path;
                    if (!_registered[d]) { _registered[d] = true; RegisteredCount++; UnregisteredCount--; }
                    _infoDirty.Add(d);
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
            if (_registered[d] && !seen[d])
            {
                _registered[d] = false;
                RegisteredCount--; UnregisteredCount++;
                _infoDirty.Add(d);
                dropped++;
            }
        ManifestHash = m.ManifestHash;
        return (added, updated, dropped);
    }

    // ---------------------------------------------------------------- statuses and the policy's outcomes

    /// <summary>
    /// Sets a sample's status. Leaving the re-fed state (to quarantined, awaiting review, restored or active) ends its
    /// re-feed; being restored also ends a prune the caps held back.
    /// </summary>
    public void ChangeStatus(int d, SampleStatus to, long cycle, string reason)
    {
        var old = _status[d];
        if (old != SampleStatus.Active) _byStatus[(int)old].Remove(d);
        if (to != SampleStatus.Active) _byStatus[(int)to].Add(d);
        _status[d] = to;
        _statusCycle[d] = cycle;
        _reasons[d] = reason;
        _infoDirty.Add(d);
        if (to is not (SampleStatus.Quarantined or SampleStatus.AwaitingReview or SampleStatus.Restored or SampleStatus.Active)) return;
        var p = _policy[d];
        if (p.RefeedSince >= 0 || p.RefeedWeight != 1f || (to == SampleStatus.Restored && p.Held != 0))
        {
            _policy[d] = p with { RefeedSince = -1, RefeedWeight = 1f, RefeedWindow = 0, RefeedWindowExcess = 0, Held = to == SampleStatus.Restored ? 0 : p.Held };
            MarkDirty(d);
        }
    }

    /// <summary>A new reason for a sample whose status stays.</summary>
    public void SetReason(int d, string reason)
    {
        _reasons[d] = reason;
        _infoDirty.Add(d);
    }

    /// <summary>Remembers what the policy decided about a sample this cycle (its status is changed by <see cref="ChangeStatus"/>).</summary>
    public void ApplyOutcome(in CurationOutcome o)
    {
        _policy[o.Index] = o.State;
        if (!float.IsNaN(o.IdentityZ)) _probes[o.Index].LastZ = o.IdentityZ;
        _probes[o.Index].OutlierBits = o.ProbeOutlierBits;
        MarkDirty(o.Index);
    }

    /// <summary>The cycle is over: its per-sample accumulators are zeroed and the totals move on.</summary>
    public void CloseCycle(long cycle, long step, long seq)
    {
        foreach (int d in _cycleObserved)
        {
            ref var c = ref _counters[d];
            c.CycleObservations = 0;
            c.CycleSumLog = 0;
            c.CycleSumLoss = 0;
            MarkDirty(d);
        }
        _cycleObserved.Clear();
        Cycles++;
        LastCycle = cycle;
        LastCloseStep = step;
        Seq = seq;
    }

    /// <summary>A log entry that changed nothing here but statuses (a person's command) has been applied.</summary>
    public void AdvanceSeq(long seq) => Seq = seq;

    private void MarkDirty(int d)
    {
        ref ulong word = ref _dirtyBits[d >> 6];
        ulong bit = 1UL << (d & 63);
        if ((word & bit) != 0) return;
        word |= bit;
        _dirty.Add(d);
    }
}
