using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Text.Json;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Coordinator.Runs;
using static FaceCluster.Tests.Support.CliRunner;

namespace FaceCluster.Tests.Ledger;

/// <summary>`facecluster ledger …` against a stopped run's folder: queries read-only, changes only while no coordinator holds the run.</summary>
[Trait("Tier", "unit")]
public sealed class LedgerCommandTests : IClassFixture<LedgerCommandTests.StoppedRun>
{
    /// <summary>A run folder whose ledger saw a synthetic 1,600-step run that quarantined its planted outliers.</summary>
    public sealed class StoppedRun : IDisposable
    {
        public StoppedRun()
        {
            Run = new SyntheticRun(totalSteps: 1600);
            using var e = LedgerEngine.Open(new LedgerOptions(Folder.Path) { FaceSet = Run.FaceSet });
            Run.Drive(e, 0, 1600);
            Quarantined = Assert.IsType<QuarantineList>(e.Handle(new GetQuarantine(false))).Entries.Select(q => q.SampleId).ToArray();
        }

        internal ScratchFolder Folder { get; } = new("fc-ledger-cli");
        internal SyntheticRun Run { get; }
        public int[] Quarantined { get; }
        public void Dispose() => Folder.Dispose();
    }

    private readonly StoppedRun _run;
    public LedgerCommandTests(StoppedRun run) => _run = run;

    [Fact]
    public void Stats_and_worst_read_the_ledger_as_tables_and_as_json()
    {
        Assert.NotEmpty(_run.Quarantined);
        var (code, output, err) = RunCli("ledger", "stats", "--run", _run.Folder.Path);
        Assert.True(code == 0, err);
        Assert.Contains($"{_run.Run.Ids.Length} samples of 8 identities", output);
        Assert.Contains($"quarantined {_run.Quarantined.Length}", output);

        (code, output, err) = RunCli("ledger", "worst", "--run", _run.Folder.Path, "-n", "5", "--include-quarantined", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var samples = doc.RootElement.GetProperty("samples");
        Assert.Equal(5, samples.GetArrayLength());
        // The worst of all are planted outliers.
        Assert.Contains(samples[0].GetProperty("sampleId").GetInt32(), _run.Run.Bad);
    }

    [Fact]
    public void Quarantine_and_sample_name_the_quarantined_faces()
    {
        var (code, output, err) = RunCli("ledger", "quarantine", "--run", _run.Folder.Path);
        Assert.True(code == 0, err);
        Assert.Contains($"{_run.Quarantined.Length} quarantine(s)", output);
        int id = _run.Quarantined[0];
        (code, output, err) = RunCli("ledger", "sample", id.ToString(), "--run", _run.Folder.Path);
        Assert.True(code == 0, err);
        Assert.Contains($"sample {id}:", output);
        Assert.Contains("quarantined", output);
    }

    [Fact]
    public void Unknown_ids_missing_runs_and_missing_targets_are_clear_errors()
    {
        var (code, _, err) = RunCli("ledger", "sample", "424242", "--run", _run.Folder.Path);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("unknown sample id(s) 424242", err);

        using var empty = new ScratchFolder("fc-ledger-none");
        (code, _, err) = RunCli("ledger", "stats", "--run", empty.Combine("nope"));
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("no run folder at", err);
        (code, _, err) = RunCli("ledger", "stats", "--run", empty.Path);
        Assert.Contains("has no ledger", err);

        (code, _, err) = RunCli("ledger", "stats");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--run RUNDIR", err);

        (code, _, err) = RunCli("ledger", "stats", "--url", "ftp://x");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("ftp://x", err);
    }

    [Fact]
    public void Restore_brings_a_face_back_and_is_refused_while_a_coordinator_holds_the_run()
    {
        using var copy = new ScratchFolder("fc-ledger-restore");
        foreach (var f in Directory.GetFiles(_run.Folder.Path)) File.Copy(f, Path.Combine(copy.Path, Path.GetFileName(f)));
        int id = _run.Quarantined[0];

        using (RunFolder.OpenExclusive(copy.Path))
        {
            var (locked, _, lockedErr) = RunCli("ledger", "restore", id.ToString(), "--run", copy.Path);
            Assert.Equal(ExitCodes.Locked, locked);
            Assert.Contains("--url", lockedErr);
        }

        var (code, output, err) = RunCli("ledger", "restore", id.ToString(), "--run", copy.Path);
        Assert.True(code == 0, err);
        Assert.Contains($"restored 1 sample(s): {id}", output);
        (code, output, _) = RunCli("ledger", "quarantine", "--run", copy.Path, "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var held = doc.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("sampleId").GetInt32()).ToList();
        Assert.DoesNotContain(id, held);
        Assert.Equal(_run.Quarantined.Length - 1, held.Count);
    }
}
