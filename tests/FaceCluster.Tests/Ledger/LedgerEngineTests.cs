using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Store;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using Microsoft.Data.Sqlite;

namespace FaceCluster.Tests.Ledger;

[Trait("Tier", "unit")]
public class LedgerEngineTests
{
    private static LedgerOptions Options(string runDir) => new(runDir) { Flush = new FlushPolicy(IntervalMs: 50, MaxPendingRecords: 5000, SnapshotIntervalMs: 60_000) };

    private static RegisterFaceSet SmallFaceSet() => new(["a", "b"], [7, 70, 700, 7000, 70000, 700000], [0, 0, 0, 1, 1, 1],
        ["a/1.png", "a/2.png", "a/3.png", "b/1.png", "b/2.png", "b/3.png"], "hash");

    private static SampleSummary Summary(LedgerEngine e, int id) => Assert.IsType<SampleHistory>(e.Handle(new GetSampleHistory(id))).Sample;

    [Fact]
    public void Validation_figures_form_a_curve_per_figure_that_survives_a_reopen()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using (var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet() }))
        {
            e.RecordValidation(new ValidationReport(50, "validation/loss", 0.40));
            e.RecordValidation(new ValidationReport(100, "validation/loss", 0.30));
            e.RecordValidation(new ValidationReport(100, "validation/accuracy", double.NaN)); // not a point
            var curves = Assert.IsType<LossCurves>(e.Handle(new GetLossCurves(64)));
            var curve = Assert.Single(curves.Validation);
            Assert.Equal("validation:validation/loss", curve.Name);
            Assert.Equal([50L, 100L], curve.Steps);
        }
        using var reopened = LedgerEngine.OpenReadOnly(dir.Path);
        var again = Assert.Single(Assert.IsType<LossCurves>(reopened.Handle(new GetLossCurves(64))).Validation);
        Assert.Equal([50L, 100L], again.Steps);
        Assert.Equal(0.30, again.MeanLoss[^1], 6);
    }

    [Fact]
    public void Relative_loss_is_the_loss_over_the_median_of_the_whole_global_batch_of_its_step()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet() });
        e.Ingest(new LossReport("w1", 0, 0, 2, [7, 70, 700], [1, 2, 3]));
        Assert.Equal(0, Summary(e, 7).Observations); // the step waits for its second report
        Assert.Equal(1, e.Stats().PendingSteps);
        e.Ingest(new LossReport("w2", 0, 0, 2, [7000, 70000, 700000], [4, 5, 6]));
        var stats = e.Stats();
        Assert.Equal(0, stats.PendingSteps);
        Assert.Equal(1, stats.Steps);
        Assert.Equal(6, stats.Observations);
        Assert.Equal(3.5, stats.LastGlobalLoss, 6);
        var s = Summary(e, 7);
        Assert.Equal(1, s.Observations);
        Assert.Equal(1 / 3.5, s.EmaRelative, 5);
        Assert.Equal(1 / 3.5 - 1, s.Auc, 5);
        Assert.Equal("a", s.Identity);
        Assert.Equal("a/1.png", s.Path);
        Assert.Equal(6 / 3.5, Summary(e, 700000).EmaRelative, 5);
        // A second step halves every loss: the relative losses do not move.
        e.Ingest(new LossReport("w1", 0, 1, 2, [7, 70, 700], [0.5f, 1, 1.5f]));
        e.Ingest(new LossReport("w2", 0, 1, 2, [7000, 70000, 700000], [2, 2.5f, 3]));
        Assert.Equal(1 / 3.5, Summary(e, 7).EmaRelative, 5);
        Assert.Equal(2 * (1 / 3.5 - 1), Summary(e, 7).Auc, 5);
        Assert.Equal(0.5, Summary(e, 7).LastLoss, 6);
    }

    [Fact]
    public void A_step_missing_a_report_is_finalized_when_stale_and_a_late_report_is_compared_with_its_median()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet(), StaleAfterSteps = 10 });
        e.Ingest(new LossReport("w1", 0, 0, 2, [7, 70, 700, 7000], [1, 2, 3, 4])); // w2 never reports step 0 in time
        for (int step = 1; step <= 11; step++)
        {
            e.Ingest(new LossReport("w1", 0, step, 2, [7, 70, 700], [1, 1, 1]));
            e.Ingest(new LossReport("w2", 0, step, 2, [7000, 70000, 700000], [1, 1, 1]));
            Assert.Equal(step <= 10 ? 1 : 0, e.Stats().PendingSteps);
        }
        var stats = e.Stats();
        Assert.Equal(1, stats.IncompleteSteps);
        Assert.Equal(12, stats.Steps);
        Assert.Equal(4 + 66, stats.Observations);

        Assert.Equal(11, Summary(e, 70000).Observations);
        e.Ingest(new LossReport("w2", 0, 0, 2, [70000], [5])); // arrives late: compared with step 0's median (2.5)
        stats = e.Stats();
        Assert.Equal(1, stats.LateReports);
        Assert.Equal(71, stats.Observations);
        Assert.Equal(12, Summary(e, 70000).Observations);

        // A cycle close finalizes its pending steps, however incomplete.
        e.Ingest(new LossReport("w1", 0, 20, 2, [7, 70, 700, 7000], [1, 2, 3, 4]));
        Assert.Equal(1, e.Stats().PendingSteps);
        e.CloseCycle(new CloseCycle(0, 21));
        Assert.Equal(0, e.Stats().PendingSteps);
        Assert.Equal(2, e.Stats().IncompleteSteps);
    }

    [Fact]
    public void Only_true_outliers_are_acted_on_while_every_loss_falls_tenfold()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var run = new SyntheticRun(totalSteps: 2000);
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = run.FaceSet });
        run.Drive(e, 0, 2000);
        var curve = Assert.IsType<LossCurves>(e.Handle(new GetLossCurves(20))).Global;
        Assert.True(curve.MeanLoss[0] / curve.MeanLoss[^1] > 7, $"the synthetic loss should fall about tenfold, fell {curve.MeanLoss[0] / curve.MeanLoss[^1]:0.0}x");

        var quarantined = Assert.IsType<QuarantineList>(e.Handle(new GetQuarantine(false))).Entries.Select(q => q.SampleId).ToHashSet();
        Assert.Equal(run.Bad.Order(), quarantined.Order()); // every planted outlier, and nothing else
        // Nothing good was ever even flagged or re-fed.
        foreach (int id in run.Ids.Where(id => !run.Bad.Contains(id)))
        {
            var changes = Assert.IsType<SampleHistory>(e.Handle(new GetSampleHistory(id))).Changes;
            Assert.True(changes.Length == 0, $"good sample {id}: {string.Join("; ", changes.Select(c => $"{c.Cycle} {c.From}->{c.To} {c.Reason}"))}");
        }
        // The bad ones were re-fed before they were pruned, and the directives said so.
        Assert.All(run.Bad, id => Assert.Contains(run.Directives, d => d.Refeed.Contains(id)));
        Assert.All(run.Directives.SelectMany(d => d.RefeedWeights), w => Assert.Equal(3f, w));
        Assert.Equal(run.Bad.Count, run.Directives.Sum(d => d.Prune.Length));
        // The worst list leads with them.
        var worst = Assert.IsType<WorstSamples>(e.Handle(new GetWorstSamples(run.Bad.Count, true)));
        Assert.Equal(run.Bad.Order(), worst.Samples.Select(s => s.SampleId).Order());
        Assert.All(worst.Samples, s => Assert.Equal("quarantined", s.Status));
        Assert.DoesNotContain(Assert.IsType<WorstSamples>(e.Handle(new GetWorstSamples(10, false))).Samples, s => s.Status == "quarantined");
        var identities = Assert.IsType<LedgerIdentities>(e.Handle(GetLedgerIdentities.Instance)).Identities;
        Assert.Equal(8, identities.Length);
        Assert.All(identities, i => Assert.Equal(5, i.Quarantined));
        Assert.All(identities, i => Assert.Equal(55, i.Active));
    }

    [Fact]
    public void Reopening_restores_the_same_state_and_every_raw_record_is_kept()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var run = new SyntheticRun(totalSteps: 1400);
        var sent = new List<LossReport>();
        LedgerStats before;
        object[] beforeQueries;
        using (var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = run.FaceSet }))
        {
            run.Drive(e, 0, 1210, sent.Add); // ends mid-cycle: pending steps and open-cycle sums must survive too
            before = e.Stats();
            beforeQueries = Queries(e, run);
        }
        Assert.True(before.Quarantined > 0 && before.Cycles == 30, $"the run should have pruned by now ({before})");
        using (var e = LedgerEngine.Open(Options(dir.Path)))
        {
            Assert.Equal(before with { UnflushedRecords = 0 }, e.Stats() with { UnflushedRecords = 0 });
            var after = Queries(e, run);
            for (int i = 0; i < after.Length; i++) Protocol.ProtocolSerializerTests.AssertDeepEqual(beforeQueries[i], after[i]);
            var stored = e.Store.Reader.ReadReports().ToList();
            var workers = e.Store.Reader.ReadWorkerNames();
            Assert.Equal(sent.Count, stored.Count);
            for (int i = 0; i < sent.Count; i++)
            {
                Assert.Equal(sent[i].WorkerId, workers[stored[i].Worker]);
                Assert.Equal(sent[i].Step, stored[i].Step);
                Assert.Equal(sent[i].Cycle, stored[i].Cycle);
                Assert.Equal(sent[i].ReportsInStep, stored[i].ReportsInStep);
                Assert.Equal(sent[i].SampleIds, stored[i].SampleIds);
                Assert.Equal(sent[i].Losses, stored[i].Losses);
            }
            // The resumed run continues its ledger.
            run.Drive(e, 1210, 1400);
            Assert.Equal(35, e.Stats().Cycles);
        }
    }

    [Fact]
    public void A_snapshot_written_with_another_layout_of_the_statistics_is_rebuilt_from_the_raw_log()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var run = new SyntheticRun(totalSteps: 1400);
        LedgerStats before;
        object[] beforeQueries;
        using (var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = run.FaceSet }))
        {
            run.Drive(e, 0, 1210);
            before = e.Stats();
            beforeQueries = Queries(e, run);
        }
        // As if a build with one more per-sample statistic had written the snapshot: its statistics cannot be read as they are.
        string path = Path.Combine(dir.Path, LedgerStore.FileName);
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE meta SET value = 'SampleCounters:56[another build]' WHERE key = 'stats_layout';";
            Assert.Equal(1, cmd.ExecuteNonQuery());
            cmd.CommandText = "UPDATE sample_stats SET counters = zeroblob(length(counters) + 4 * count);"; // 4 more bytes per sample
            Assert.True(cmd.ExecuteNonQuery() > 0);
        }
        using (var e = LedgerEngine.Open(Options(dir.Path)))
        {
            Assert.Equal(before with { UnflushedRecords = 0 }, e.Stats() with { UnflushedRecords = 0 });
            var after = Queries(e, run);
            for (int i = 0; i < after.Length; i++) Protocol.ProtocolSerializerTests.AssertDeepEqual(beforeQueries[i], after[i]);
            run.Drive(e, 1210, 1400);
            Assert.Equal(35, e.Stats().Cycles);
            before = e.Stats();
        }
        // The rebuilt ledger wrote its statistics again in this build's layout: the next open reads them as they are.
        using (var e = LedgerEngine.Open(Options(dir.Path)))
            Assert.Equal(before with { UnflushedRecords = 0 }, e.Stats() with { UnflushedRecords = 0 });
        using (var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT value FROM meta WHERE key = 'stats_layout';";
            Assert.Equal(LedgerFormat.StatsLayout, cmd.ExecuteScalar());
        }
    }

    private static object[] Queries(LedgerEngine e, SyntheticRun run) =>
    [
        e.Handle(new GetWorstSamples(30, true)),
        e.Handle(GetLedgerIdentities.Instance),
        e.Handle(new GetQuarantine(true)),
        e.Handle(new GetSampleHistory(run.Bad.Min())),
        e.Handle(new GetSampleHistory(run.Ids.First(id => !run.Bad.Contains(id)))),
        e.Handle(new GetLossCurves(64)),
    ];

    [Fact]
    public void A_crash_loses_at_most_the_unflushed_records_and_the_rest_is_rebuilt_by_replay()
    {
        using var dirA = new ScratchFolder("fc-ledger");
        using var dirB = new ScratchFolder("fc-ledger");
        var runA = new SyntheticRun(totalSteps: 1400);
        var runB = new SyntheticRun(totalSteps: 1400);
        using var b = LedgerEngine.Open(Options(dirB.Path) with { FaceSet = runB.FaceSet });
        runB.Drive(b, 0, 1130);

        var a = LedgerEngine.Open(Options(dirA.Path) with { FaceSet = runA.FaceSet });
        runA.Drive(a, 0, 1130);
        a.Flush(); // the log is in ledger.db; the derived state's last snapshot is from the registration, so all of it is replayed
        var lost = new LossReport("worker-1", 28, 1130, 2, [runA.Ids[0], runA.Ids[1]], [0.01f, 0.02f]);
        a.Ingest(lost); // accepted, not yet written
        Assert.Equal(2, a.UnflushedRecords);
        Assert.Equal(2, a.Stats().UnflushedRecords);
        a.CloseWithoutFlushing(); // crash

        using (a = LedgerEngine.Open(Options(dirA.Path)))
        {
            Assert.Equal(b.Stats() with { UnflushedRecords = 0 }, a.Stats()); // everything but the unflushed report was rebuilt
            Protocol.ProtocolSerializerTests.AssertDeepEqual(b.Handle(new GetWorstSamples(40, true)), a.Handle(new GetWorstSamples(40, true)));
            runA.Drive(a, 1130, 1400);
            runB.Drive(b, 1130, 1400);
            Assert.Equal(b.Stats() with { UnflushedRecords = 0 }, a.Stats() with { UnflushedRecords = 0 });
            Assert.Equal(runB.Directives.Count, runA.Directives.Count);
            int reopened = 1130 / 40; // the first close after the restart also re-sends every quarantined sample
            for (int i = 0; i < runA.Directives.Count; i++)
            {
                var (da, db) = (runA.Directives[i], runB.Directives[i]);
                if (i == reopened)
                {
                    Assert.Superset(db.Prune.ToHashSet(), da.Prune.ToHashSet());
                    Assert.Equal(runA.Excluded.Order(), da.Prune.Order().Union(runA.Directives.Take(i).SelectMany(d => d.Prune)).Order().Distinct());
                    (da, db) = (da with { Prune = [] }, db with { Prune = [] });
                }
                Protocol.ProtocolSerializerTests.AssertDeepEqual(db, da);
            }
        }
    }

    [Fact]
    public void A_user_command_before_a_crash_is_replayed_and_still_reaches_the_next_directives()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet() });
        e.CloseCycle(new CloseCycle(0, 1));
        Assert.IsType<ReviewRecorded>(e.Handle(new ReviewDecision(70, true)));
        Assert.IsType<SamplesRestored>(e.Handle(new RestoreSamples([7000], "keep")));
        e.Ingest(new LossReport("w1", 1, 1, 1, [7, 70, 700, 7000], [1, 2, 3, 4]));
        e.Flush();
        e.CloseWithoutFlushing(); // crash: the last snapshot is the registration's
        using (e = LedgerEngine.Open(Options(dir.Path)))
        {
            var stats = e.Stats();
            Assert.Equal((1, 1, 4L, 1L), (stats.Quarantined, stats.Restored, stats.Observations, stats.Cycles));
            Assert.Equal("quarantined", Summary(e, 70).Status);
            var d = e.CloseCycle(new CloseCycle(1, 2));
            Assert.Equal([70], d.Prune);
            Assert.Equal([7000], d.Restored);
        }
    }

    [Fact]
    public void Unknown_sample_ids_in_reports_are_kept_not_dropped()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet() });
        e.Ingest(new LossReport("w1", 0, 0, 1, [7, 70, 700, 424242], [1, 2, 3, 4]));
        var stats = e.Stats();
        Assert.Equal(1, stats.UnregisteredSamples);
        Assert.Equal(6, stats.Samples);
        Assert.Equal(4, stats.Observations);
        Assert.Equal("(unregistered)", Summary(e, 424242).Identity);
        e.Ingest(new LossReport("w1", 0, 1, 1, [7, 70], [1, 2, 3])); // malformed: dropped, counted nowhere, no exception
        Assert.Equal(4, e.Stats().Observations);
    }

    [Fact]
    public void Registering_again_after_a_restart_merges_with_what_the_ledger_knows()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using (var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet() }))
            e.Ingest(new LossReport("w1", 0, 0, 1, [7, 70, 700, 7000, 70000, 700000], [1, 2, 3, 4, 5, 6]));
        var changed = new RegisterFaceSet(["a", "b", "c"], [7, 70, 700, 7000, 70000, 700000, 8],
            [0, 0, 2, 1, 1, 1, 2], ["a/1.png", "a/2.png", "c/3.png", "b/1.png", "b/2.png", "b/3.png", "c/8.png"], "hash2");
        using (var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = changed }))
        {
            Assert.Equal(7, e.Stats().Samples);
            Assert.Equal(3, e.Stats().Identities);
            var moved = Summary(e, 700);
            Assert.Equal("c", moved.Identity);
            Assert.Equal("c/3.png", moved.Path);
            Assert.Equal(1, moved.Observations); // its statistics were kept
            Assert.Equal(0, Summary(e, 8).Observations);
            Assert.Equal(6, e.Stats().Observations);
        }
    }

    [Fact]
    public void User_commands_on_unknown_ids_get_an_error_naming_the_ids_and_change_nothing()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet() });
        var error = Assert.IsType<LedgerError>(e.Handle(new RestoreSamples([7, 12345, 54321], "oops")));
        Assert.Contains("12345", error.Message);
        Assert.Contains("54321", error.Message);
        Assert.Equal([12345, 54321], error.UnknownSampleIds);
        Assert.Equal("active", Summary(e, 7).Status); // sample 7, a known id, was left alone
        error = Assert.IsType<LedgerError>(e.Handle(new ReviewDecision(99, true)));
        Assert.Contains("99", error.Message);
        error = Assert.IsType<LedgerError>(e.Handle(new GetSampleHistory(-5)));
        Assert.Contains("-5", error.Message);
        Assert.IsType<LedgerError>(e.Handle(new GetWorstSamples(-1, false)));
    }

    [Fact]
    public void Review_decisions_quarantine_or_keep_and_reach_the_next_directives()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet(), Policy = CurationPolicyOptions.Default with { Mode = CurationMode.Review } });
        var q = Assert.IsType<ReviewRecorded>(e.Handle(new ReviewDecision(70, true)));
        Assert.Equal("quarantined", q.Status);
        Assert.Equal("a/2.png", q.CurrentPath); // exclude: the file stays where it is (no data root known: relative)
        var kept = Assert.IsType<ReviewRecorded>(e.Handle(new ReviewDecision(7000, false)));
        Assert.Equal("restored", kept.Status);
        var d = e.CloseCycle(new CloseCycle(0, 10));
        Assert.Equal([70], d.Prune);
        Assert.Equal([7000], d.Restored);
        var d2 = e.CloseCycle(new CloseCycle(1, 20));
        Assert.Empty(d2.Prune);
        Assert.Empty(d2.Restored);
        var restored = Assert.IsType<SamplesRestored>(e.Handle(new RestoreSamples([70], "it is fine")));
        Assert.Equal([70], restored.SampleIds);
        Assert.Empty(restored.Failures);
        Assert.Equal([70], e.CloseCycle(new CloseCycle(2, 30)).Restored);
        var history = Assert.IsType<SampleHistory>(e.Handle(new GetSampleHistory(70)));
        Assert.Equal(["quarantined", "restored"], history.Changes.Select(c => c.To));
        Assert.Contains("it is fine", history.Changes[1].Reason);
        Assert.True(Assert.Single(history.Quarantines).Restored);
        var stats = e.Stats();
        Assert.Equal((0, 2, 4), (stats.Quarantined, stats.Restored, stats.Active));
    }

    [Fact]
    public void A_second_writer_or_a_reader_gets_an_error_naming_the_locked_ledger()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = SmallFaceSet() });
        string path = Path.Combine(dir.Path, LedgerStore.FileName);
        var error = Assert.Throws<FaceClusterException>(() => LedgerEngine.Open(Options(dir.Path)));
        Assert.Contains(path, error.Message);
        Assert.Contains("locked", error.Message);
        Assert.Equal(ExitCodes.Locked, error.ExitCode);
        error = Assert.Throws<FaceClusterException>(() => LedgerEngine.OpenReadOnly(dir.Path));
        Assert.Contains(path, error.Message);
        Assert.Contains("locked", error.Message);
    }

    [Fact]
    public void Read_only_opens_name_a_missing_run_folder_or_ledger()
    {
        using var dir = new ScratchFolder("fc-ledger");
        string missing = Path.Combine(dir.Path, "no-such-run");
        var error = Assert.Throws<FaceClusterException>(() => LedgerEngine.OpenReadOnly(missing));
        Assert.Contains(missing, error.Message);
        error = Assert.Throws<FaceClusterException>(() => LedgerEngine.OpenReadOnly(dir.Path));
        Assert.Contains(Path.Combine(dir.Path, LedgerStore.FileName), error.Message);
    }

    [Fact]
    public void A_stopped_run_answers_queries_read_only_and_refuses_commands()
    {
        using var dir = new ScratchFolder("fc-ledger");
        var run = new SyntheticRun(totalSteps: 1000);
        LedgerStats stats;
        using (var e = LedgerEngine.Open(Options(dir.Path) with { FaceSet = run.FaceSet }))
        {
            run.Drive(e, 0, 1000);
            stats = e.Stats();
        }
        using (var r = LedgerEngine.OpenReadOnly(dir.Path))
        {
            Assert.True(r.ReadOnly);
            Assert.Equal(stats with { UnflushedRecords = 0 }, Assert.IsType<LedgerStats>(r.Handle(GetLedgerStats.Instance)));
            Assert.NotEmpty(Assert.IsType<WorstSamples>(r.Handle(new GetWorstSamples(5, false))).Samples);
            var error = Assert.IsType<LedgerError>(r.Handle(new RestoreSamples([run.Ids[0]], "")));
            Assert.Contains("read-only", error.Message);
            Assert.Throws<InvalidOperationException>(() => r.Ingest(new LossReport("w", 0, 0, 1, [], [])));
        }
        // A reader leaves nothing behind that stops the run from resuming.
        using (var e = LedgerEngine.Open(Options(dir.Path))) Assert.Equal(stats.Observations, e.Stats().Observations);
    }

    [Fact]
    public void The_ledger_of_a_crashed_run_can_be_queried_read_only()
    {
        using var dir = new ScratchFolder("fc-ledger");
        string crashed = Path.Combine(dir.Path, "crashed");
        Directory.CreateDirectory(crashed);
        LedgerStats stats;
        var run = new SyntheticRun(totalSteps: 900);
        using (var e = LedgerEngine.Open(Options(Path.Combine(dir.Path, "live")) with { FaceSet = run.FaceSet }))
        {
            run.Drive(e, 0, 900);
            e.Flush();
            stats = e.Stats();
            // What a crash leaves: the database and its write-ahead log, copied while the writer still holds them.
            foreach (string file in Directory.GetFiles(Path.Combine(dir.Path, "live")))
                File.Copy(file, Path.Combine(crashed, Path.GetFileName(file)));
        }
        Assert.True(File.Exists(Path.Combine(crashed, LedgerStore.FileName + "-wal")));
        using var r = LedgerEngine.OpenReadOnly(crashed);
        Assert.Equal(stats with { UnflushedRecords = 0 }, r.Stats());
    }

    [Fact]
    public void A_ledger_from_a_newer_build_is_refused_with_its_path()
    {
        using var dir = new ScratchFolder("fc-ledger");
        using (LedgerEngine.Open(Options(dir.Path))) { }
        string path = Path.Combine(dir.Path, LedgerStore.FileName);
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99;";
            cmd.ExecuteNonQuery();
        }
        var error = Assert.Throws<FaceClusterException>(() => LedgerEngine.Open(Options(dir.Path)));
        Assert.Contains(path, error.Message);
        Assert.Contains("99", error.Message);
        Assert.Equal(ExitCodes.VersionMismatch, error.ExitCode);
    }
}
