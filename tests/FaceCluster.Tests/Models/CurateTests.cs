using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Cli.Offline.QualityScreening;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Quality;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class CurateTests
{
    /// <summary>data/ holds 6 bright (good) and 6 dark (bad) images in two identity folders; G and B 3 labelled each.</summary>
    private sealed class Layout : IDisposable
    {
        public readonly ScratchFolder Root = new("fc-curate");
        public string Data => Root.Combine("data");
        public string Good => Root.Combine("G");
        public string Bad => Root.Combine("B");
        public string Out => Root.Combine("out");
        public string Screen => Root.Combine("screen");

        public Layout()
        {
            for (int i = 0; i < 12; i++)
                QualityTestImages.Write(Path.Combine(Data, i % 2 == 0 ? "alice" : "bob"), $"img{i:00}-{(i % 3 == 0 ? "dark" : "bright")}.png", bad: i % 3 == 0, seed: 100 + i);
            for (int i = 0; i < 3; i++)
            {
                QualityTestImages.Write(Good, $"g{i}.png", bad: false, seed: 200 + i);
                QualityTestImages.Write(Bad, $"b{i}.png", bad: true, seed: 300 + i);
            }
            QualityTestImages.Write(Good, "img03-dark.png", bad: false, seed: 250); // a name data/ also has: a move must not overwrite it
            QualityTestImages.Write(Screen, "keep1.png", bad: false, seed: 400);
            QualityTestImages.Write(Screen, "keep2.png", bad: false, seed: 401);
            QualityTestImages.Write(Screen, "reject1.png", bad: true, seed: 402);
            QualityTestImages.Write(Screen, "reject2.png", bad: true, seed: 403);
            File.WriteAllText(Path.Combine(Screen, "broken.png"), "not an image");
        }

        public CurateOptions Options(bool move = false, string? screen = null, string? good = "", string? bad = "", string? labelsFrom = null) => new(
            Data, good == "" ? Good : good, bad == "" ? Bad : bad, Low: 0.3, High: 0.7, Rounds: 3, Move: move, LabelsFrom: labelsFrom, ScreenDir: screen,
            OutDir: Out, ModelPreset.Tiny, new QualityTrainingOptions(Steps: 25, Batch: 8, LearningRate: 2e-3, Seed: 5), HoldoutFraction: 0, MaxGrowth: 10);

        public string[] AllFiles() => Directory.GetFiles(Root.Path, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(Out, StringComparison.Ordinal)).Select(f => Path.GetRelativePath(Root.Path, f)).Order().ToArray();

        public void Dispose() => Root.Dispose();
    }

    [Fact]
    public void A_round_records_the_confident_labels_and_leaves_the_files_alone_then_screen_lists_the_rejects()
    {
        using var layout = new Layout();
        var before = layout.AllFiles();
        var output = new StringWriter();
        var result = QualityCurator.Run(layout.Options(screen: layout.Screen), output);

        Assert.Equal(before, layout.AllFiles()); // record-only: nothing moved, nothing deleted
        var pseudo = result.Labels.Where(l => l.Source == "pseudo").ToList();
        Assert.Equal(12, pseudo.Count);
        Assert.All(pseudo, l => Assert.Equal(Path.GetFileName(l.Path).Contains("dark"), l.Bad));
        Assert.All(pseudo, l => Assert.Equal("", l.MovedTo));
        Assert.Equal(12, result.Rounds[0].Moved);
        Assert.Equal(0, result.Rounds[^1].Moved); // stops when a round labels nothing
        Assert.Contains("round 1:", output.ToString());

        var lines = File.ReadAllLines(result.LabelsFile);
        Assert.Equal("label\tsource\tround\tp_bad\theld_out\tpath\tmoved_to", lines[0]);
        Assert.Equal(1 + 12 + 7, lines.Length); // header, 12 pseudo-labels, 7 hand labels
        Assert.True(Directory.Exists(result.Checkpoint));

        Assert.Equal(["broken.png", "reject1.png", "reject2.png"], result.Rejected.Select(r => Path.GetFileName(r.Path)).Order());
        Assert.Equal(4, result.Screened.Count);
        Assert.Contains("reject1.png", output.ToString());
        Assert.DoesNotContain("keep1.png", string.Join("\n", output.ToString().Split('\n').Where(l => l.Contains("reject  "))));
        Assert.True(File.Exists(result.ScreenFile));
    }

    [Fact]
    public void Move_moves_labelled_files_into_the_labelled_folders_and_never_deletes_or_overwrites()
    {
        using var layout = new Layout();
        int filesBefore = layout.AllFiles().Length;
        string existing = File.ReadAllText(Path.Combine(layout.Good, "img03-dark.png"));
        var result = QualityCurator.Run(layout.Options(move: true), new StringWriter());

        Assert.Equal(filesBefore, layout.AllFiles().Length);
        Assert.Empty(Directory.GetFiles(layout.Data, "*.png", SearchOption.AllDirectories));
        Assert.Equal(existing, File.ReadAllText(Path.Combine(layout.Good, "img03-dark.png"))); // not overwritten
        Assert.True(File.Exists(Path.Combine(layout.Bad, "img03-dark.png")));
        Assert.Equal(4 + 8, Directory.GetFiles(layout.Good).Length); // 3 + the decoy, 8 bright moved in
        Assert.Equal(3 + 4, Directory.GetFiles(layout.Bad).Length);
        Assert.All(result.Labels.Where(l => l.Source == "pseudo"), l => Assert.True(File.Exists(l.MovedTo), l.MovedTo));
    }

    [Fact]
    public void Bad_input_gives_clear_errors()
    {
        using var layout = new Layout();
        var missing = Assert.Throws<FaceClusterException>(() => QualityCurator.Run(layout.Options(good: layout.Root.Combine("nope")), new StringWriter()));
        Assert.Contains("--good", missing.Message);
        Assert.Contains("nope", missing.Message);

        string empty = layout.Root.Combine("empty");
        Directory.CreateDirectory(empty);
        var noImages = Assert.Throws<FaceClusterException>(() => QualityCurator.Run(layout.Options(bad: empty), new StringWriter()));
        Assert.Contains("--bad", noImages.Message);
        Assert.Contains("no images", noImages.Message);

        var noLabels = Assert.Throws<FaceClusterException>(() => QualityCurator.Run(layout.Options(good: null, bad: null), new StringWriter()));
        Assert.Contains("--labels-from", noLabels.Message);
        var moveWithoutFolders = Assert.Throws<FaceClusterException>(() =>
            QualityCurator.Run(layout.Options(move: true, good: null, labelsFrom: layout.Root.Path), new StringWriter()));
        Assert.Contains("--move", moveWithoutFolders.Message);
        var noLedger = Assert.Throws<FaceClusterException>(() => QualityCurator.Run(layout.Options(labelsFrom: layout.Root.Path), new StringWriter()));
        Assert.Contains("ledger", noLedger.Message);
        var thresholds = Assert.Throws<FaceClusterException>(() => QualityCurator.Run(layout.Options() with { Low = 0.8, High = 0.7 }, new StringWriter()));
        Assert.Contains("--low", thresholds.Message);
        Assert.False(Directory.Exists(layout.Out) && Directory.GetFiles(layout.Out).Length > 0);
    }

    [Fact]
    public void The_command_reports_bad_input_in_one_line_with_a_usage_exit_code()
    {
        using var layout = new Layout();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = FaceCluster.Cli.CliApp.Run(["curate", "--data", layout.Data, "--good", layout.Root.Combine("missing"), "--bad", layout.Bad], stdout, stderr);
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--good", stderr.ToString());
        Assert.Single(stderr.ToString().Trim().Split('\n'));
        code = FaceCluster.Cli.CliApp.Run(["curate", "--data", layout.Data, "--good", layout.Good, "--bad", layout.Bad, "--move", "--record-only"], stdout, stderr);
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal(layout.AllFiles().Length, Directory.GetFiles(layout.Root.Path, "*", SearchOption.AllDirectories).Length);
    }
}
