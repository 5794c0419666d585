using FaceCluster.Common.Planning;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Common.Randomness;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Tests.Support;

/// <summary>
/// A synthetic training run that talks to a ledger the way the coordinator does: every step the global batch is
/// drawn epoch by epoch (re-fed samples more often, quarantined ones never), split over the workers, and each
/// worker reports its per-sample losses; every cycle ends with a CloseCycle whose directives shape the next cycle.
/// Losses: base(step) × difficulty × lognormal noise, where the base falls tenfold over the run, good samples'
/// difficulty varies a little (sd 0.05 in log) and bad ones are 2.5 times harder. Deterministic from the seed.
/// </summary>
internal sealed class SyntheticRun
{
    private readonly HashSet<int> _excluded = new();
    private Dictionary<int, float> _refeed = new();
    private readonly double[] _difficulty;

    public SyntheticRun(int identities = 8, int perIdentity = 60, int badPerIdentity = 5, int globalBatch = 32, int workers = 2,
        int stepsPerCycle = 40, long totalSteps = 1600, ulong seed = 1)
    {
        Identities = identities;
        GlobalBatch = globalBatch;
        Workers = workers;
        StepsPerCycle = stepsPerCycle;
        TotalSteps = totalSteps;
        Seed = seed;
        int n = identities * perIdentity;
        Ids = Enumerable.Range(0, n).Select(i => 1000 + 3 * i).ToArray(); // sparse ids, as a manifest may have
        var identity = Enumerable.Range(0, n).Select(i => i / perIdentity).ToArray();
        var rng = new DeterministicRng(seed);
        _difficulty = new double[n];
        for (int i = 0; i < n; i++)
        {
            bool bad = i % perIdentity < badPerIdentity;
            if (bad) Bad.Add(Ids[i]);
            _difficulty[i] = bad ? 2.5 : Math.Exp(0.05 * Gaussian(rng));
        }
        IndexOf = Enumerable.Range(0, n).ToDictionary(i => Ids[i]);
        FaceSet = new RegisterFaceSet(Enumerable.Range(0, identities).Select(g => $"person-{g + 1:00}").ToArray(), Ids, identity,
            Enumerable.Range(0, n).Select(i => $"person-{identity[i] + 1:00}/img_{i:0000}.png").ToArray(), "synthetic");
    }

    public int Identities { get; }
    public int GlobalBatch { get; }
    public int Workers { get; }
    public int StepsPerCycle { get; }
    public long TotalSteps { get; }
    public ulong Seed { get; }
    public int[] Ids { get; }
    public Dictionary<int, int> IndexOf { get; }
    public HashSet<int> Bad { get; } = new();
    public RegisterFaceSet FaceSet { get; }
    public List<CurationDirectives> Directives { get; } = new();
    public IReadOnlySet<int> Excluded => _excluded;
    public IReadOnlyDictionary<int, float> Refeed => _refeed;

    public static double Gaussian(DeterministicRng rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public double Base(long step) => 0.2 * Math.Pow(10, -(double)step / TotalSteps);

    /// <summary>The reports of one step (one per worker).</summary>
    public LossReport[] Step(long step, int[] batch)
    {
        long cycle = step / StepsPerCycle;
        var reports = new LossReport[Workers];
        int per = batch.Length / Workers;
        for (int w = 0; w < Workers; w++)
        {
            var ids = batch.AsSpan(w * per, w == Workers - 1 ? batch.Length - w * per : per).ToArray();
            var rng = DeterministicRng.Derive(Seed, step, w);
            var losses = ids.Select(id => (float)(Base(step) * _difficulty[IndexOf[id]] * Math.Exp(0.2 * Gaussian(rng)))).ToArray();
            reports[w] = new LossReport($"worker-{w + 1}", cycle, step, Workers, ids, losses);
        }
        return reports;
    }

    /// <summary>Runs steps [from, to) against the engine, closing every cycle that ends in the range; every report also goes to <paramref name="sink"/>.</summary>
    /// <summary>Called at the end of every cycle, before it is closed (e.g. to send identity probes).</summary>
    public Action<LedgerEngine, long, long>? BeforeClose { get; set; }

    public void Drive(LedgerEngine engine, long from, long to, Action<LossReport>? sink = null)
    {
        LocalBatchSampler? sampler = null;
        for (long step = from; step < to; step++)
        {
            long cycle = step / StepsPerCycle;
            if (sampler == null || step % StepsPerCycle == 0)
                sampler = new LocalBatchSampler(Ids.Where(id => !_excluded.Contains(id)).ToArray(), _refeed,
                    DeterministicRng.Derive(Seed, cycle, step));
            foreach (var report in Step(step, sampler.Next(GlobalBatch)))
            {
                engine.Ingest(report);
                sink?.Invoke(report);
            }
            if ((step + 1) % StepsPerCycle == 0)
            {
                BeforeClose?.Invoke(engine, cycle, step + 1);
                Apply(engine.CloseCycle(new CloseCycle(cycle, step + 1)));
            }
        }
    }

    public void Apply(CurationDirectives d)
    {
        Directives.Add(d);
        _excluded.UnionWith(d.Prune);
        _excluded.ExceptWith(d.Restored);
        _refeed = d.Refeed.Zip(d.RefeedWeights).ToDictionary(p => p.First, p => p.Second);
    }
}
