using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Text.Json;
using FaceCluster.Cli.Commands;
using static FaceCluster.Tests.Support.CliRunner;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class ScanCommandTests
{
    private static void BuildSet(ScratchFolder d)
    {
        for (int i = 0; i < 3; i++) d.Write($"alice/{i}.jpg", TestImages.FaceBytes(".jpg", i));
        for (int i = 0; i < 4; i++) d.Write($"bob/{i}.png", TestImages.FaceBytes(".png", 10 + i));
        d.Write("bob/broken.png", []);
        d.Write("dave/0.png", TestImages.FaceBytes(".png", 20));
        d.Write("list.txt", "x"u8.ToArray());
    }

    [Fact]
    public void Scan_prints_identities_rejects_exclusions_and_the_manifest_then_reuses_it()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        string run = runs.Combine("r");
        var (code, output, err) = RunCli("scan", "--data", data.Path, "--run", run);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains(data.Path, output);
        Assert.Contains(Path.Combine(run, "manifest.json") + " (built", output);
        Assert.Matches(@"alice\s+3\s+\d+", output);
        Assert.Matches(@"bob\s+4\s+\d+", output);
        Assert.Matches(@"bob/broken\.png\s+ZeroBytes\s+the file is empty", output);
        Assert.Matches(@"dave\s+1 usable", output);
        Assert.Contains("list.txt", output);
        Assert.True(File.Exists(Path.Combine(run, "manifest.json")));

        var again = RunCli("scan", "--data", data.Path, "--run", run);
        Assert.Equal(0, again.Code);
        Assert.Contains("(reused: nothing changed)", again.Out);
    }

    [Fact]
    public void Scan_json_is_machine_readable()
    {
        using var data = new ScratchFolder();
        using var runs = new ScratchFolder("fc-runs");
        BuildSet(data);
        var (code, output, _) = RunCli("scan", "--data", data.Path, "--run", runs.Path, "--json", "--min-images", "1", "--val-fraction", "0");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("Built", root.GetProperty("manifest").GetProperty("action").GetString());
        Assert.Equal(8, root.GetProperty("images").GetInt32());
        Assert.Equal(0, root.GetProperty("validationImages").GetInt32());
        Assert.Equal(["alice", "bob", "dave"], root.GetProperty("identities").EnumerateArray().Select(i => i.GetProperty("identity").GetString()));
        var reject = Assert.Single(root.GetProperty("rejected").EnumerateArray());
        Assert.Equal("ZeroBytes", reject.GetProperty("reason").GetString());
        Assert.Equal(["list.txt"], root.GetProperty("outsideFiles").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Bad_flag_values_and_missing_folders_fail_with_one_line()
    {
        using var data = new ScratchFolder();
        BuildSet(data);
        var bad = RunCli("scan", "--data", data.Path, "--min-images", "0");
        Assert.Equal(ExitCodes.UsageError, bad.Code);
        Assert.Equal("error: --min-images 0: must be at least 1", bad.Err.Trim());

        var fraction = RunCli("scan", "--data", data.Path, "--val-fraction", "1.5");
        Assert.Equal(ExitCodes.UsageError, fraction.Code);
        Assert.Contains("--val-fraction 1.5", fraction.Err);

        string missing = data.Combine("missing");
        var gone = RunCli("scan", "--data", missing);
        Assert.Equal(ExitCodes.UserError, gone.Code);
        Assert.Single(gone.Err.Trim().Split('\n'));
        Assert.Contains(missing, gone.Err);

        var noData = RunCli("scan");
        Assert.Equal(ExitCodes.UsageError, noData.Code);
        Assert.Contains("--data", noData.Err);
    }

    [Fact]
    public void The_default_run_folder_is_runs_slash_the_data_folder_name()
    {
        Assert.Equal(Path.Combine("runs", "faces"), ScanCommand.DefaultRunDir("/srv/data/faces/"));
        Assert.Equal(Path.Combine("runs", "faces"), ScanCommand.DefaultRunDir("/srv/data/faces"));
    }

    [Fact]
    public void Bench_loader_runs_briefly_and_prints_ratios()
    {
        using var data = new ScratchFolder();
        BuildSet(data);
        var (code, output, err) = RunCli("bench", "loader", "--data", data.Path, "--seconds", "0.2", "--size", "32", "--batch", "4", "--workers", "1");
        Assert.True(code == 0, err);
        Assert.Contains("baseline: read + Cv2.ImDecode", output);
        Assert.Matches(@"cold: BatchPipeline, no cache\s+\d+\s+\d+\s+\d+\.\d\dx", output);
        Assert.Matches(@"warm: BatchPipeline, decoded-image cache\s+\d+\s+\d+\s+\d+\.\d\dx", output);

        var bad = RunCli("bench", "loader", "--data", data.Path, "--seconds", "0");
        Assert.Equal(ExitCodes.UsageError, bad.Code);
        Assert.Contains("--seconds 0", bad.Err);
    }
}
