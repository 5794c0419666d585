using FaceCluster.Common.IO;
using System.Text.RegularExpressions;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Synth;
using FaceCluster.Tests.Support;
using static FaceCluster.Tests.Support.CliRunner;

namespace FaceCluster.Tests.Runs;

/// <summary>`facecluster train` and `demo` end to end: coordinator, 2 workers, ring all-reduce, ledger and checkpoints in one process.</summary>
[Trait("Tier", "integration")]
// Their runs build seeded replicas in this process, drawing from libtorch's global generator (see TorchRngCollection).
[Collection(TorchRngCollection.Name)]
public sealed class EmbeddedRunTests
{
    [Fact]
    public void Every_trained_sample_loss_reaches_the_ledger_and_a_resumed_run_carries_on()
    {
        using var temp = new ScratchFolder("fc-embedded");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 8, Size = 32, Seed = 5 });
        string[] common = ["--data", data, "--run", run, "--workers", "2", "--steps-per-cycle", "4", "--batch", "8", "--preset", "tiny", "--min-images", "3"];

        var (code, output, err) = RunCli(["train", .. common, "--cycles", "2"]);
        Assert.True(code == 0, output + err);
        Assert.True(Directory.Exists(Path.Combine(run, "checkpoints", "step-8")), output);
        // A preview at every save: 3 identities x 2 faces, each as original | reconstruction | swap, at 2x of 32 px.
        using (var preview = OpenCvSharp.Cv2.ImRead(Path.Combine(run, "previews", "step-8.png")))
        {
            Assert.False(preview.Empty());
            Assert.Equal(3 * 64, preview.Width);
            Assert.Equal(6 * 64, preview.Height);
        }
        Assert.True(File.Exists(Path.Combine(run, "previews", "latest.png")));
        // TensorBoard's view of the same run (`tensorboard --logdir RUN`): the loss of every step, curation per cycle,
        // the preview of every checkpoint.
        var events = TensorBoardReader.Read(Assert.Single(Directory.GetFiles(Path.Combine(run, "tb"), "events.out.tfevents.*")));
        var values = events.SelectMany(e => e.Values.Select(v => (e.Step, v))).ToList();
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), values.Where(x => x.v.Tag == "train/loss").Select(x => x.Step).Order());
        Assert.Contains(values, x => x.v.Tag == "curation/quarantined" && x.Step == 8);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "previews", "step-8.png")), values.Single(x => x.v.Tag == "preview" && x.Step == 8).v.Png);
        // Every checkpoint is measured on the validation split; the best one is ranked by it, not by the training loss.
        Assert.Matches(@"step 4: validation loss \d\.\d{4} \(\d+ images\)", output);
        Assert.Matches(@"step 8: validation loss \d\.\d{4} \(\d+ images\)", output);
        Assert.Equal([4L, 8L], values.Where(x => x.v.Tag == "validation/loss").Select(x => x.Step));
        var best = new FaceCluster.Common.Models.Checkpoints.CheckpointStore(run).FindBest()!;
        Assert.Equal("validation/loss", best.Meta.Extra["metric"]);
        Assert.Equal((double)values.Single(x => x.v.Tag == "validation/loss" && x.Step == best.Meta.Step).v.Scalar!.Value, best.Meta.Metric!.Value, 4);
        using (var ledger = LedgerEngine.OpenReadOnly(run))
        {
            var stats = ledger.Stats();
            Assert.Equal(8, stats.Steps);
            Assert.Equal(8 * 8, stats.Observations); // every sample of every global batch
            Assert.Equal(2, stats.Cycles);
            Assert.Equal(2, stats.Workers);
            Assert.Equal(0, stats.IncompleteSteps);
        }

        // The resumed cycle runs each worker's batch in two micro-batches (--accumulate 2): the same steps, the same records.
        (code, output, err) = RunCli(["train", .. common, "--cycles", "3", "--resume", "--accumulate", "2"]);
        Assert.True(code == 0, output + err);
        Assert.Contains("Done: step 12", output);
        using (var ledger = LedgerEngine.OpenReadOnly(run))
        {
            var stats = ledger.Stats();
            Assert.Equal(12, stats.Steps);
            Assert.Equal(12 * 8, stats.Observations);
            Assert.Equal(3, stats.Cycles);
        }
    }

    [Fact]
    public void A_triplet_run_prints_its_verification_accuracy_on_the_validation_split_every_cycle()
    {
        using var temp = new ScratchFolder("fc-embedded-triplet");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 4, PerIdentity = 10, Size = 32, Seed = 9 });
        var (code, output, err) = RunCli(["train", "--data", data, "--run", run, "--model", "triplet", "--workers", "2", "--steps-per-cycle", "3",
            "--batch", "8", "--cycles", "2", "--preset", "tiny", "--val-fraction", "0.3"]);
        Assert.True(code == 0, output + err);
        Assert.Matches(@"step 3: verification accuracy [01]\.\d{4} on the validation split \(\d+ images\)", output);
        Assert.Matches(@"step 6: verification accuracy [01]\.\d{4} on the validation split \(\d+ images\)", output);
        var events = TensorBoardReader.Read(Assert.Single(Directory.GetFiles(Path.Combine(run, "tb"), "events.out.tfevents.*")));
        Assert.Equal([3L, 6L], events.Where(e => e.Values.Any(v => v.Tag == "validation/accuracy")).Select(e => e.Step));
    }

    [Fact]
    public void A_quality_run_prints_its_good_bad_accuracy_on_the_validation_split_every_cycle()
    {
        using var temp = new ScratchFolder("fc-embedded-quality");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        for (int i = 0; i < 16; i++)
        {
            QualityTestImages.Write(Path.Combine(data, "good"), $"g{i:00}.png", bad: false, seed: 500 + i);
            QualityTestImages.Write(Path.Combine(data, "bad"), $"b{i:00}.png", bad: true, seed: 600 + i);
        }
        var (code, output, err) = RunCli(["train", "--data", data, "--run", run, "--model", "quality", "--workers", "2", "--steps-per-cycle", "3",
            "--batch", "8", "--cycles", "2", "--preset", "tiny", "--val-fraction", "0.3"]);
        Assert.True(code == 0, output + err);
        Assert.Matches(@"step 3: good/bad accuracy [01]\.\d{4} on the validation split \(\d+ images\)", output);
        Assert.Matches(@"step 6: good/bad accuracy [01]\.\d{4} on the validation split \(\d+ images\)", output);
        var events = TensorBoardReader.Read(Assert.Single(Directory.GetFiles(Path.Combine(run, "tb"), "events.out.tfevents.*")));
        Assert.Equal([3L, 6L], events.Where(e => e.Values.Any(v => v.Tag == "validation/good-bad-accuracy")).Select(e => e.Step));
        // The best checkpoint is ranked by it.
        var best = new FaceCluster.Common.Models.Checkpoints.CheckpointStore(run).FindBest()!;
        Assert.Equal("validation/good-bad-accuracy", best.Meta.Extra["metric"]);
    }

    [Fact]
    public void Every_training_face_is_probed_with_its_latent_by_the_workers_at_the_end_of_a_probing_cycle()
    {
        using var temp = new ScratchFolder("fc-probe");
        string data = temp.Combine("faces"), run = temp.Combine("run");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 3, PerIdentity = 8, Size = 32, Seed = 7 });
        var (code, output, err) = RunCli(["train", "--data", data, "--run", run, "--workers", "2", "--steps-per-cycle", "4", "--batch", "8", "--cycles", "3",
            "--preset", "tiny", "--min-images", "3", "--warmup-steps", "0", "--probe-every", "2", "--latent-outliers", "--curation", "off"]);
        Assert.True(code == 0, output + err);
        int training = FaceCluster.Common.FaceSet.ManifestStore.Load(Path.Combine(run, FaceCluster.Common.FaceSet.ManifestStore.FileName)).TrainingSamples.Count();
        using var ledger = LedgerEngine.OpenReadOnly(run);
        var samples = Assert.IsType<FaceCluster.Coordinator.Ledger.Protocol.WorstSamples>(ledger.Handle(new FaceCluster.Coordinator.Ledger.Protocol.GetWorstSamples(1000, true))).Samples;
        Assert.Equal(training, samples.Length);
        // Cycles 0..2 with --probe-every 2: only cycle 1 ends with a probe, and both workers' shards cover every training face once.
        Assert.All(samples, s => Assert.Equal(1, s.IdentityProbes));
        Assert.All(samples, s => Assert.True(double.IsFinite(s.IdentityMargin) && s.IdentityMargin > 0, $"{s.Path}: margin {s.IdentityMargin}"));
        // Every probe carries the encoder's latent of each face it probed (the tiny preset's bottleneck: 128 floats).
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(run, "ledger.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT latent_width, length(latents), length(ids) FROM probes;";
        using var reader = cmd.ExecuteReader();
        int rows = 0;
        while (reader.Read())
        {
            rows++;
            Assert.Equal(FaceCluster.Common.Models.ModelPreset.Tiny.Latent, reader.GetInt32(0));
            Assert.Equal(reader.GetInt64(2) / 4 * reader.GetInt32(0) * 4, reader.GetInt64(1));
        }
        Assert.True(rows >= 2, $"{rows} probe messages");
    }

    [Fact]
    public void A_run_warm_started_from_a_trained_runs_encoder_and_decoders_starts_at_its_loss()
    {
        using var temp = new ScratchFolder("fc-warm");
        string data = temp.Combine("faces"), trained = temp.Combine("trained"), warm = temp.Combine("warm");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 2, PerIdentity = 10, Size = 32, Seed = 6, BadFraction = 0, HardFraction = 0 });
        string[] common = ["--data", data, "--workers", "2", "--batch", "8", "--preset", "tiny", "--curation", "off"];
        var (code, output, err) = RunCli(["train", .. common, "--run", trained, "--cycles", "1", "--steps-per-cycle", "150"]);
        Assert.True(code == 0, output + err);
        string checkpoint = Path.Combine(trained, "checkpoints", "step-150");
        string[] decoders = [.. Directory.GetDirectories(data).Select(Path.GetFileName).Order().SelectMany(id => new[] { "--init-decoder", $"{id}={checkpoint}" })];
        Assert.Equal(4, decoders.Length);

        (code, output, err) = RunCli(["train", .. common, "--run", warm, "--cycles", "1", "--steps-per-cycle", "2", "--init-encoder", checkpoint, .. decoders]);
        Assert.True(code == 0, output + err);

        // Same seed and data: the fresh run's first step is what an ignored warm start would give.
        float fresh = FirstStepMean(trained), trainedEnd = LastStepMean(trained), started = FirstStepMean(warm);
        Assert.True(started < 0.6f * fresh && started < 1.5f * trainedEnd, $"first-step loss: fresh {fresh}, trained run's last step {trainedEnd}, warm-started {started}");
    }

    private static float FirstStepMean(string run)
    {
        using var ledger = LedgerEngine.OpenReadOnly(run);
        return ledger.Store.Reader.ReadSteps().Single(s => s.Step == 0).Mean;
    }

    private static float LastStepMean(string run)
    {
        using var ledger = LedgerEngine.OpenReadOnly(run);
        return ledger.Store.Reader.ReadSteps().MaxBy(s => s.Step).Mean;
    }

    [Fact]
    public void A_short_demo_ends_with_the_verdict_line()
    {
        using var temp = new ScratchFolder("fc-demo");
        var (code, output, err) = RunCli("demo", "--out", temp.Path, "--cycles", "2", "--steps-per-cycle", "4", "--batch", "8",
            "--identities", "3", "--per-identity", "10", "--warmup-steps", "0", "--worst", "3");
        Assert.True(code == 0, output + err);
        Assert.Contains("worst faces", output);
        var last = output.TrimEnd().Split('\n')[^1];
        Assert.Matches(new Regex(@"^verdict: precision=\d\.\d\d recall=\d\.\d\d flagged=\d+ planted=\d+$"), last.Trim());
        Assert.True(File.Exists(SynthTruth.PathFor(Path.Combine(temp.Path, "faces"))));
    }

    [Fact]
    public void A_short_demo_on_a_real_face_folder_plants_into_a_copy_and_measures_the_ledger_on_it()
    {
        using var temp = new ScratchFolder("fc-demo");
        var (code, output, err) = RunCli("demo", "--faces", RealFaceSets.Cmu, "--out", temp.Path, "--cycles", "2", "--steps-per-cycle", "4", "--batch", "8",
            "--warmup-steps", "0", "--worst", "3");
        Assert.True(code == 0, output + err);
        string planted = Path.Combine(temp.Path, "planted-cmu-faces");
        Assert.Contains($"face set: {planted} (307 images of 20 identities; 31 planted bad", output);
        var truth = SynthTruth.Load(SynthTruth.PathFor(planted));
        Assert.Equal(RealFaceSets.Cmu, truth.Plant!.Source);
        Assert.Matches(new Regex(@"^verdict: precision=\d\.\d\d recall=\d\.\d\d flagged=\d+ planted=\d+$"), output.TrimEnd().Split('\n')[^1].Trim());

        // A second demo reuses the planted copy as it is.
        (code, output, err) = RunCli("demo", "--faces", RealFaceSets.Cmu, "--out", temp.Path, "--cycles", "1", "--steps-per-cycle", "2", "--batch", "8", "--warmup-steps", "0");
        Assert.True(code == 0, output + err);
        Assert.DoesNotContain("planting 10% bad faces", output);
    }
}
