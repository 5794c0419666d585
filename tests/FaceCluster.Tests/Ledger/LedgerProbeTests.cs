using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Store;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using Microsoft.Data.Sqlite;

namespace FaceCluster.Tests.Ledger;

/// <summary>Identity probes in the ledger: taken in, judged by the policy, persisted, replayed after a crash, and read from older ledgers.</summary>
[Trait("Tier", "unit")]
public class LedgerProbeTests
{
    private static LedgerOptions Options(string runDir) => new(runDir) { Flush = new FlushPolicy(IntervalMs: 50, MaxPendingRecords: 5000, SnapshotIntervalMs: 60_000) };

    private static LedgerOptions WithLatents(LedgerOptions o) => o with { Policy = CurationPolicyOptions.Default with { DetectLatent = true } };

    /// <summary>Two faces per identity whose loss is ordinary but which do not look like their identity.</summary>
    private static HashSet<int> Foreign(SyntheticRun run) =>
        run.Ids.Where(id => !run.Bad.Contains(id)).GroupBy(id => run.IndexOf[id] / 60).SelectMany(g => g.Take(2)).ToHashSet();

    /// <summary>Sends every active face's identity probe at the end of every 4th cycle, as the workers do.</summary>
    private static void ProbeEvery4thCycle(SyntheticRun run, HashSet<int> foreign)
    {
        run.BeforeClose = (engine, cycle, step) =>
        {
            if ((cycle + 1) % 4 != 0 || step < CurationPolicyOptions.Default.ProbeFromStep) return;
            var ids = run.Ids.Where(id => !run.Excluded.Contains(id)).ToArray();
            var own = ids.Select(id => foreign.Contains(id) ? 0.10f : 0.05f + 0.002f * (id % 7)).ToArray();
            var other = ids.Select(_ => 0.10f).ToArray();
            int half = ids.Length / 2; // two workers, each its shard
            engine.IngestProbe(new ProbeReport("worker-0", cycle, step, ids[..half], own[..half], other[..half]));
            engine.IngestProbe(new ProbeReport("worker-1", cycle, step, ids[half..], own[half..], other[half..]));
        };
    }

    /// <summary>
    /// The probe of <paramref name="cycle"/> with latents: every face near its identity's centre, the <paramref name="far"/>
    /// ones far from it; losses ordinary for all (as for bad faces the decoders have memorised).
    /// </summary>
    private static ProbeReport[] LatentProbe(SyntheticRun run, HashSet<int> far, long cycle, long step)
    {
        const int width = 8;
        var ids = run.Ids.Where(id => !run.Excluded.Contains(id)).ToArray();
        var latents = new float[ids.Length * width];
        for (int k = 0; k < ids.Length; k++)
        {
            int index = run.IndexOf[ids[k]], identity = index / 60;
            var rng = new Random(index);
            for (int j = 0; j < width; j++)
                latents[k * width + j] = (float)(identity + (rng.NextDouble() - 0.5) + (far.Contains(ids[k]) ? 6 * ((j + index) % 2 * 2 - 1) : 0) + 0.01 * Math.Sin(cycle * 7 + j));
        }
        var own = ids.Select(id => 0.05f + 0.002f * (id % 7)).ToArray();
        var other = ids.Select(_ => 0.10f).ToArray();
        int half = ids.Length / 2;
        return
        [
            new ProbeReport("worker-0", cycle, step, ids[..half], own[..half], other[..half]) { LatentWidth = width, Latents = latents[..(half * width)] },
            new ProbeReport("worker-1", cycle, step, ids[half..], own[half..], other[half..]) { LatentWidth = width, Latents = latents[(half * width)..] },
        ];
    }

    [Fact]
    public void Faces_far_from_their_identity_in_the_encoders_latent_space_are_quarantined_as_latent_outliers()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var run = new SyntheticRun(totalSteps: 1400);
        var far = Foreign(run);
        run.BeforeClose = (engine, cycle, step) =>
        {
            if ((cycle + 1) % 4 != 0 || step < CurationPolicyOptions.Default.ProbeFromStep) return;
            foreach (var r in LatentProbe(run, far, cycle, step)) engine.IngestProbe(r);
        };
        using var e = LedgerEngine.Open(WithLatents(Options(dir.Path)) with { FaceSet = run.FaceSet });
        run.Drive(e, 0, 1400);
        Assert.All(far, id => Assert.Contains(id, run.Excluded));
        var s = Summary(e, far.First());
        Assert.Equal("quarantined", s.Status);
        Assert.StartsWith("latent outlier", s.Reason);
        var wrong = run.Excluded.Where(id => !far.Contains(id) && !run.Bad.Contains(id)).ToList();
        Assert.True(wrong.Count == 0, $"good faces quarantined: {string.Join(", ", wrong)}");
        // Latents that are not one per sample, or not finite, are left out, not thrown.
        e.IngestProbe(new ProbeReport("worker-0", 35, 1400, [run.Ids[0]], [0.05f], [0.1f]) { LatentWidth = 8, Latents = [1f] });
        e.IngestProbe(new ProbeReport("worker-0", 35, 1400, [run.Ids[0]], [0.05f], [0.1f]) { LatentWidth = 1, Latents = [float.NaN] });
        // A width no model has (a hostile worker's) is left out without a throw.
        e.IngestProbe(new ProbeReport("worker-0", 35, 1400, [run.Ids[0]], [0.05f], [0.1f]) { LatentWidth = 1_000_000, Latents = new float[1_000_000] });
    }

    [Fact]
    public void The_latents_of_a_cycle_still_open_at_the_snapshot_are_taken_from_the_probes_table_after_a_crash()
    {
        using var dirA = new ScratchFolder("fc-ledger");
        using var dirB = new ScratchFolder("fc-ledger");
        var runA = new SyntheticRun(totalSteps: 1400);
        var runB = new SyntheticRun(totalSteps: 1400);
        var farA = Foreign(runA);
        var farB = Foreign(runB);
        void Probe(SyntheticRun run, HashSet<int> far, LedgerEngine engine, long cycle, long step)
        {
            if ((cycle + 1) % 4 != 0 || step < CurationPolicyOptions.Default.ProbeFromStep) return;
            foreach (var r in LatentProbe(run, far, cycle, step)) engine.IngestProbe(r);
        }
        // Until cycle 23 no face is far; in cycle 23's probe (steps 920..959) a few are. Both runs stop before its close.
        runA.BeforeClose = (engine, cycle, step) => Probe(runA, [], engine, cycle, step);
        runB.BeforeClose = (engine, cycle, step) => Probe(runB, [], engine, cycle, step);
        using var b = LedgerEngine.Open(WithLatents(Options(dirB.Path)) with { FaceSet = runB.FaceSet });
        runB.Drive(b, 0, 959);
        var a = LedgerEngine.Open(WithLatents(Options(dirA.Path)) with { FaceSet = runA.FaceSet });
        runA.Drive(a, 0, 959);
        foreach (var (run, far, engine) in new[] { (runA, farA, a), (runB, farB, b) })
        {
            foreach (var r in run.Step(959, run.Ids.Where(id => !run.Excluded.Contains(id)).Take(run.GlobalBatch).ToArray())) engine.Ingest(r);
            foreach (var r in LatentProbe(run, far, 23, 960)) engine.IngestProbe(r);
        }
        a.Snapshot(); // the snapshot holds the probe's statistics, but not its latents
        a.CloseWithoutFlushing();
        using (a = LedgerEngine.Open(WithLatents(Options(dirA.Path))))
        {
            var closedA = a.CloseCycle(new CloseCycle(23, 960));
            var closedB = b.CloseCycle(new CloseCycle(23, 960));
            Assert.Equal(closedB.Prune, closedA.Prune);
            Assert.Equal(closedB.Flagged, closedA.Flagged);
            Assert.Equal(farA.Order(), closedA.Flagged.Intersect(farA).Order()); // seen in this probe's latents: watched
            foreach (int id in farA)
                Protocol.ProtocolSerializerTests.AssertDeepEqual(Summary(b, id), Summary(a, id));
        }
    }

    private static SampleSummary Summary(LedgerEngine e, int id) => Assert.IsType<SampleHistory>(e.Handle(new GetSampleHistory(id))).Sample;

    [Fact]
    public void Faces_that_do_not_look_like_their_identity_are_quarantined_and_queries_show_their_margin()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var run = new SyntheticRun(totalSteps: 1400);
        var foreign = Foreign(run);
        ProbeEvery4thCycle(run, foreign);
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = run.FaceSet });
        run.Drive(e, 0, 1400);
        Assert.All(foreign, id => Assert.Contains(id, run.Excluded));
        var s = Summary(e, foreign.First());
        Assert.Equal("quarantined", s.Status);
        Assert.Contains("identity outlier", s.Reason);
        Assert.True(s.IdentityProbes >= 2, $"{s.IdentityProbes} probes");
        Assert.Equal(1.0, s.IdentityMargin, 3);
        Assert.True(s.IdentityZ >= CurationPolicyOptions.Default.IdentityOutlierZ, $"z {s.IdentityZ}");
        var good = Summary(e, run.Ids.First(id => !foreign.Contains(id) && !run.Bad.Contains(id) && id % 7 == 0));
        Assert.Equal(0.5, good.IdentityMargin, 3);
        Assert.True(good.IdentityZ < 1, $"z {good.IdentityZ}");
        // Probes of samples the ledger does not know, or with losses that have no ratio, are dropped, not thrown.
        e.IngestProbe(new ProbeReport("worker-0", 35, 1400, [123456789, run.Ids[0]], [0.1f, float.NaN], [0.1f, 0.1f]));
        e.IngestProbe(new ProbeReport("worker-0", 35, 1400, [run.Ids[0]], [0.1f, 0.2f], [0.1f]));
        Assert.Equal(s.IdentityProbes, Summary(e, foreign.First()).IdentityProbes);
    }

    [Fact]
    public void Probes_after_the_last_snapshot_are_replayed_after_a_crash()
    {
        using var dirA = new ScratchFolder("fc-ledger");
        using var dirB = new ScratchFolder("fc-ledger");
        var runA = new SyntheticRun(totalSteps: 1400);
        var runB = new SyntheticRun(totalSteps: 1400);
        ProbeEvery4thCycle(runA, Foreign(runA));
        ProbeEvery4thCycle(runB, Foreign(runB));
        using var b = LedgerEngine.Open(Options(dirB.Path) with { FaceSet = runB.FaceSet });
        runB.Drive(b, 0, 1130);
        var a = LedgerEngine.Open(Options(dirA.Path) with { FaceSet = runA.FaceSet });
        runA.Drive(a, 0, 1130);
        a.Flush();
        a.CloseWithoutFlushing(); // crash: the snapshot is from the registration; reports, probes and closes are replayed
        using (a = LedgerEngine.Open(Options(dirA.Path)))
        {
            Assert.Equal(b.Stats() with { UnflushedRecords = 0 }, a.Stats());
            foreach (int id in runA.Ids.Take(60).Concat(Foreign(runA)))
                Protocol.ProtocolSerializerTests.AssertDeepEqual(Summary(b, id), Summary(a, id));
        }
    }

    [Fact]
    public void A_ledger_of_schema_version_1_is_read_as_it_is_and_upgraded_when_a_run_opens_it()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var run = new SyntheticRun(totalSteps: 400);
        using (var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = run.FaceSet }))
            run.Drive(e, 0, 200);
        string path = Path.Combine(dir.Path, LedgerStore.FileName);
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            // What versions 2 and later added goes, as in a file written by version 1.
            cmd.CommandText = "ALTER TABLE sample_stats DROP COLUMN probe; DROP TABLE probes; DROP TABLE quarantine_moves; PRAGMA user_version = 1;";
            cmd.ExecuteNonQuery();
        }
        using (var ro = LedgerEngine.OpenReadOnly(dir.Path))
        {
            var s = Summary(ro, run.Ids[0]);
            Assert.True(s.Observations > 0);
            Assert.Equal(0, s.IdentityProbes);
            Assert.True(double.IsNaN(s.IdentityMargin));
        }
        using (var e = LedgerEngine.Open(Options(dir.Path)))
        {
            run.Drive(e, 200, 240);
            e.IngestProbe(new ProbeReport("worker-0", 6, 280, [run.Ids[0]], [0.05f], [0.1f]));
            e.Snapshot();
            Assert.Equal(1, Summary(e, run.Ids[0]).IdentityProbes);
        }
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version;";
            Assert.Equal(LedgerStore.SchemaVersion, Convert.ToInt32(cmd.ExecuteScalar()));
        }
        using (var ro = LedgerEngine.OpenReadOnly(dir.Path))
            Assert.Equal(0.5, Summary(ro, run.Ids[0]).IdentityMargin, 4);
    }
}
