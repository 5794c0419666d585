using System.Globalization;
using FaceCluster.Common.IO;
using System.Text.RegularExpressions;
using FaceCluster.Cli;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "integration")]
// Their runs build seeded replicas in this process, drawing from libtorch's global generator (see TorchRngCollection).
[Collection(Support.TorchRngCollection.Name)]
public sealed class BenchCurationCommandTests
{
    [Fact]
    public void A_tiny_curation_bench_trains_both_ways_and_compares_held_out_loss()
    {
        using var temp = new ScratchFolder("fc-bench-curation");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "curation", "--out", temp.Path, "--cycles", "1", "--steps-per-cycle", "3", "--batch", "8",
            "--identities", "3", "--per-identity", "8", "--holdout-per-identity", "2", "--warmup-steps", "0"], stdout, stderr);
        string output = stdout.ToString();
        Assert.True(code == 0, output + stderr);
        Assert.Contains("held-out clean faces: 6 images of 3 identities", output);
        var losses = Regex.Matches(output, @"^\s+(off|auto)\s+\d+\s+(\d+\.\d+)\s*$", RegexOptions.Multiline);
        Assert.Equal(2, losses.Count);
        double off = double.Parse(losses[0].Groups[2].Value, CultureInfo.InvariantCulture);
        double auto = double.Parse(losses[1].Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.InRange(off, 1e-4, 1.0);
        Assert.InRange(auto, 1e-4, 1.0);
        var ratio = Regex.Match(output, @"curation auto / off held-out loss: (\d+\.\d+)");
        Assert.True(ratio.Success, output);
        Assert.Equal(auto / off, double.Parse(ratio.Groups[1].Value, CultureInfo.InvariantCulture), 2);
    }

    [Fact]
    public void Without_held_out_faces_there_is_nothing_to_compare()
    {
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "curation", "--holdout-per-identity", "0"], new StringWriter(), stderr);
        Assert.Equal(2, code);
        Assert.Contains("--holdout-per-identity", stderr.ToString());
    }

    [Fact]
    public void The_real_set_bench_prints_precision_recall_per_kind_and_an_ablation_row_per_signal()
    {
        using var temp = new ScratchFolder("fc-bench-curation");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "curation", "--real", "--real-sets", Support.RealFaceSets.Cmu, "--skip-generated", "--ablation",
            "--out", temp.Path, "--cycles", "1", "--steps-per-cycle", "3"], stdout, stderr);
        string output = stdout.ToString();
        Assert.True(code == 0, output + stderr);
        Assert.Contains("curation on planted faces", output);
        // One row per signal variant, each with precision, recall, the good faces quarantined and the five kinds.
        var rows = Regex.Matches(output, @"^\s+cmu-faces\s+(default|no texture|with face prior|no trajectory|no identity probe|moving average only)\s+(\d\.\d\d)\s+(\d\.\d\d)\s+\d+\.\d %((\s+\d+/\d+){5})\s*$", RegexOptions.Multiline);
        Assert.Equal(6, rows.Count);
        Assert.Equal(["default", "no texture", "with face prior", "no trajectory", "no identity probe", "moving average only"], rows.Select(r => r.Groups[1].Value));
        Assert.True(File.Exists(Path.Combine(temp.Path, "planted-cmu-faces.truth.json")));
    }

    /// <summary>
    /// The floor of issue #17: the default policy, trained on a committed real set (the CMU faces, 10% planted bad as
    /// `plant` does) for a fifth of the demo's budget (12 cycles of 40 steps, judged from step 200), finds most planted
    /// faces and quarantines almost no good one. Measured on 2026-12-07, before the texture prior: precision 1.00 and 0.95,
    /// recall 0.61 and 0.68, 0.0% and 0.4% of good faces, in about 90 s each; on 2026-12-08 with it: 1.00 / 0.82 / 0.0%.
    /// Without the texture prior, or with curation broken (nothing flagged), it fails.
    /// </summary>
    [Fact]
    public void A_short_run_on_a_planted_real_set_finds_most_planted_faces_and_almost_no_good_one()
    {
        using var temp = new ScratchFolder("fc-bench-curation-floor");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "curation", "--real", "--real-sets", Support.RealFaceSets.Cmu, "--skip-generated",
            "--out", temp.Path, "--cycles", "12", "--steps-per-cycle", "40", "--warmup-steps", "200"], stdout, stderr);
        string output = stdout.ToString();
        Assert.True(code == 0, output + stderr);
        var row = Regex.Match(output, @"^\s+cmu-faces\s+default\s+(\d\.\d\d)\s+(\d\.\d\d)\s+(\d+\.\d) %((\s+\d+/\d+){5})\s*$", RegexOptions.Multiline);
        Assert.True(row.Success, output);
        double precision = double.Parse(row.Groups[1].Value, CultureInfo.InvariantCulture);
        double recall = double.Parse(row.Groups[2].Value, CultureInfo.InvariantCulture);
        double goodPercent = double.Parse(row.Groups[3].Value, CultureInfo.InvariantCulture);
        // Measured with the texture prior: 1.00 / 0.82 / 0.0% (before it, 1.00 / 0.61 and 0.95 / 0.68: this floor needs it).
        Assert.True(precision >= 0.85, $"precision {precision} < 0.85\n{output}");
        Assert.True(recall >= 0.70, $"recall {recall} < 0.70\n{output}");
        Assert.True(goodPercent <= 2.0, $"{goodPercent}% of good faces quarantined > 2%\n{output}");
        Assert.Contains("judged from step 200", output);
    }

    [Fact]
    public void The_real_set_bench_names_a_set_it_cannot_find()
    {
        var stderr = new StringWriter();
        int code = CliApp.Run(["bench", "curation", "--real", "--real-sets", "/nonexistent/faces", "--skip-generated"], new StringWriter(), stderr);
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/faces", stderr.ToString());
        stderr = new StringWriter();
        code = CliApp.Run(["bench", "curation", "--real", "--variants", "default,no-brains"], new StringWriter(), stderr);
        Assert.Equal(2, code);
        Assert.Contains("'no-brains'", stderr.ToString());
    }
}
