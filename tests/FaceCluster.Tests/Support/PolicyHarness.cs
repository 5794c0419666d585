using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Common.Randomness;

namespace FaceCluster.Tests.Support;

/// <summary>
/// Drives <see cref="CurationPolicy.Decide"/> cycle after cycle on synthetic per-sample statistics, carrying each
/// sample's status and policy memory forward exactly as the ledger does. A test gives each sample's true level
/// per cycle (log relative loss above its identity's typical one); the harness adds observation noise (sd 0.3 per
/// observation, three observations a cycle, nine while re-fed) and keeps the ledger's moving average over
/// observations (weight 0.04 each).
/// </summary>
internal sealed class PolicyHarness
{
    private readonly DeterministicRng _rng;

    /// <param name="level">Sample, cycle, cycles re-fed so far → its log relative loss above its identity's typical one in that cycle.</param>
    public PolicyHarness(int identities, int perIdentity, CurationPolicyOptions options, Func<int, long, int, double> level, ulong seed = 7)
    {
        Options = options;
        Level = level;
        N = identities * perIdentity;
        Identity = Enumerable.Range(0, N).Select(i => i / perIdentity).ToArray();
        Identities = identities;
        Status = new SampleStatus[N];
        State = Enumerable.Repeat(SamplePolicyState.Initial, N).ToArray();
        RefedCycles = new int[N];
        Inherent = new double[N];
        Smoothed = Enumerable.Repeat(double.NaN, N).ToArray();
        Observations = new int[N];
        _rng = new DeterministicRng(seed);
        for (int i = 0; i < N; i++) Inherent[i] = Gaussian() * 0.05;
    }

    public int N { get; }
    public int Identities { get; }
    public int[] Identity { get; }
    public SampleStatus[] Status { get; }
    public SamplePolicyState[] State { get; }
    public int[] RefedCycles { get; }
    /// <summary>Each sample's own difficulty (log units, sd 0.05): the good faces' natural spread.</summary>
    public double[] Inherent { get; }
    /// <summary>The ledger's moving average of each sample's log relative loss.</summary>
    public double[] Smoothed { get; }
    public int[] Observations { get; }
    public CurationPolicyOptions Options { get; set; }
    public Func<int, long, int, double> Level { get; set; }
    /// <summary>Noise of one observation's log relative loss.</summary>
    public double Noise { get; set; } = 0.3;
    /// <summary>Log spread of a sample's relative loss; erratic samples get more.</summary>
    public Func<int, double> Spread { get; set; } = _ => 0.3;
    /// <summary>
    /// Sample, cycle → the identity margin one probe measures (ln own decoder's loss ÷ best other's), or null for a
    /// model without an identity probe. Probed at the end of every <see cref="CurationPolicyOptions.ProbeEveryCycles"/>-th
    /// cycle, with noise <see cref="MarginNoise"/>, smoothed as the ledger does.
    /// </summary>
    public Func<int, long, double>? Margin { get; set; }
    public double MarginNoise { get; set; } = 0.1;
    /// <summary>
    /// Sample, cycle → the encoder's latent vector one probe reports, or null for a model without latents. Probed on the
    /// identity probe's schedule (whether or not <see cref="Margin"/> is set).
    /// </summary>
    public Func<int, long, float[]>? Latent { get; set; }
    /// <summary>
    /// When true, every sample carries its trajectory statistic (<see cref="CurationSample.MeanLog"/>): the mean of its
    /// log relative loss over all its observations. Off by default, as for a ledger that never judges trajectories.
    /// </summary>
    public bool TrackMeanLog { get; set; }
    private double[] _sumLog = [];
    private double[] _earlySum = [];
    private int[] _earlyCount = [];
    /// <summary>Samples the run's face check found no face in (the face prior); none by default.</summary>
    public Func<int, bool> NoFace { get; set; } = _ => false;
    /// <summary>Each sample's texture outlier z from the run's texture check (ratio e^(z/4)); NaN (not scored) by default.</summary>
    public Func<int, double> TextureZ { get; set; } = _ => double.NaN;
    public int[] Probes => _probes;
    private int[] _probes = [];
    private double[] _margin = [];
    private uint[] _bits = [];
    public List<CurationDecision> Decisions { get; } = new();
    /// <summary>The policy's input in the newest cycle.</summary>
    public List<CurationSample> LastSamples { get; private set; } = new();
    /// <summary>Status changes seen: (cycle, sample, from, to, reason).</summary>
    public List<(long Cycle, int Sample, SampleStatus From, SampleStatus To, string Reason)> Changes { get; } = new();

    public double Gaussian()
    {
        double u1 = 1 - _rng.NextDouble(), u2 = _rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public CurationDecision Cycle(long cycle, long step)
    {
        var samples = new List<CurationSample>();
        var latents = new List<float>();
        bool probeCycle = Options.ProbeEveryCycles > 0 && (cycle + 1) % Options.ProbeEveryCycles == 0 && (cycle + 1) * 40 >= Options.ProbeFromStep;
        int width = 0;
        for (int i = 0; i < N; i++)
        {
            if (Status[i] == SampleStatus.Quarantined) continue;
            bool refed = Status[i] == SampleStatus.Refed;
            if (refed) RefedCycles[i]++;
            int n = refed ? 9 : 3;
            double cycleMean = Inherent[i] + Level(i, cycle, RefedCycles[i]) + Noise / Math.Sqrt(n) * Gaussian();
            Smoothed[i] = double.IsNaN(Smoothed[i]) ? cycleMean : Smoothed[i] + (1 - Math.Pow(0.96, n)) * (cycleMean - Smoothed[i]);
            Observations[i] += n;
            float spread = (float)(Spread(i) * Math.Exp(0.05 * Gaussian()));
            if (_sumLog.Length != N) { _sumLog = new double[N]; _earlySum = new double[N]; _earlyCount = new int[N]; }
            _sumLog[i] += cycleMean * n;
            int early = Math.Min(n, Options.EarlyObservations - _earlyCount[i]);
            if (early > 0) { _earlySum[i] += cycleMean * early; _earlyCount[i] += early; }
            double probe = double.NaN;
            if (Latent != null && probeCycle)
            {
                if (_bits.Length != N) _bits = new uint[N];
                var latent = Latent(i, cycle);
                width = latent.Length;
                latents.AddRange(latent);
            }
            if (Margin != null && probeCycle)
            {
                if (_probes.Length != N) { _probes = new int[N]; _margin = new double[N]; }
                if (_bits.Length != N) _bits = new uint[N];
                double m = Margin(i, cycle) + MarginNoise * Gaussian();
                probe = m;
                _margin[i] = _probes[i] == 0 ? m : (1 - Options.ProbeSmoothing) * _margin[i] + Options.ProbeSmoothing * m;
                _probes[i]++;
            }
            samples.Add(new CurationSample(i, Identity[i], Status[i], n, (float)cycleMean, Observations[i], (float)Smoothed[i], spread, State[i])
            {
                Probes = _probes.Length == N ? _probes[i] : 0,
                IdentityMargin = _probes.Length == N && _probes[i] > 0 ? (float)_margin[i] : float.NaN,
                ProbeMargin = (float)probe,
                ProbeOutlierBits = _bits.Length == N ? _bits[i] : 0,
                MeanLog = TrackMeanLog ? (float)(_sumLog[i] / Observations[i]) : float.NaN,
                EarlyLog = TrackMeanLog && _earlyCount[i] * 2 >= Options.EarlyObservations ? (float)(_earlySum[i] / _earlyCount[i]) : float.NaN,
                NoFace = NoFace(i),
                TextureZ = (float)TextureZ(i), TextureRatio = (float)Math.Exp(TextureZ(i) / 4),
            });
        }
        var counts = new IdentityCounts[Identities];
        for (int i = 0; i < N; i++)
        {
            var c = counts[Identity[i]];
            bool q = Status[i] == SampleStatus.Quarantined, a = Status[i] == SampleStatus.AwaitingReview;
            counts[Identity[i]] = new IdentityCounts(c.Samples + 1, c.InTraining + (q || a ? 0 : 1), c.Quarantined + (q ? 1 : 0), c.AwaitingReview + (a ? 1 : 0));
        }
        var snapshot = new CurationSnapshot(cycle, step, samples.ToArray(), counts, N,
            Status.Count(s => s == SampleStatus.Quarantined), Status.Count(s => s == SampleStatus.AwaitingReview))
        {
            Latents = latents.ToArray(), LatentWidth = width,
        };
        LastSamples = samples;
        var decision = CurationPolicy.Decide(snapshot, Options);
        Assert.Equal(samples.Count, decision.Outcomes.Count);
        foreach (var o in decision.Outcomes)
        {
            State[o.Index] = o.State;
            if (_bits.Length == N) _bits[o.Index] = o.ProbeOutlierBits;
            if (o.Status != Status[o.Index])
            {
                Assert.False(string.IsNullOrEmpty(o.Reason), $"sample {o.Index} changed status without a reason");
                Changes.Add((cycle, o.Index, Status[o.Index], o.Status, o.Reason!));
                Status[o.Index] = o.Status;
            }
        }
        Decisions.Add(decision);
        return decision;
    }

    /// <summary>Runs cycles <paramref name="from"/>..<paramref name="to"/> (exclusive) of <paramref name="stepsPerCycle"/> steps.</summary>
    public void Run(long from, long to, long stepsPerCycle = 40)
    {
        for (long c = from; c < to; c++) Cycle(c, (c + 1) * stepsPerCycle);
    }

    public int[] With(SampleStatus status) => Enumerable.Range(0, N).Where(i => Status[i] == status).ToArray();

    public bool EverHad(int sample, SampleStatus status) => Changes.Any(c => c.Sample == sample && c.To == status);
}
