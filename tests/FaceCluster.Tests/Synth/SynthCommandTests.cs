using FaceCluster.Common.IO;
using FaceCluster.Synth;
using static FaceCluster.Tests.Support.CliRunner;

namespace FaceCluster.Tests.Synth;

[Trait("Tier", "unit")]
public class SynthCommandTests
{
    private static string[] SmallArgs(string dir, params string[] extra) =>
        ["synth", "--out", dir, "--identities", "3", "--per-identity", "8", "--bad-fraction", "0.25", "--seed", "4", "--size", "16", .. extra];

    [Theory]
    [InlineData("--identities", "0", "--identities 0")]
    [InlineData("--identities", "-3", "--identities -3")]
    [InlineData("--per-identity", "0", "--per-identity 0")]
    [InlineData("--bad-fraction", "1", "--bad-fraction 1")]
    [InlineData("--bad-fraction", "-0.1", "--bad-fraction -0.1")]
    [InlineData("--bad-fraction", "1.5", "--bad-fraction 1.5")]
    [InlineData("--hard-fraction", "1", "--hard-fraction 1")]
    [InlineData("--size", "15", "--size 15")]
    [InlineData("--size", "2000", "--size 2000")]
    [InlineData("--holdout-per-identity", "-1", "--holdout-per-identity -1")]
    [InlineData("--jpeg-fraction", "1.2", "--jpeg-fraction 1.2")]
    public void Bad_flag_values_are_refused_with_a_usage_error_naming_flag_and_value(string flag, string value, string expected)
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var (code, _, err) = RunCli(["synth", "--out", temp.Combine("set"), flag, value]);
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("internal error", err);
        Assert.False(Directory.Exists(temp.Combine("set")), "a refused run created the output folder");
        Assert.False(File.Exists(SynthTruth.PathFor(temp.Combine("set"))));
    }

    [Fact]
    public void Too_few_good_images_per_identity_is_refused_naming_the_values()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var (code, _, err) = RunCli("synth", "--out", temp.Combine("set"), "--identities", "4", "--per-identity", "6", "--bad-fraction", "0.5");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--per-identity 6", err);
        Assert.Contains("--bad-fraction 0.5", err);
        Assert.Contains("at least 3", err);
        Assert.False(Directory.Exists(temp.Combine("set")));
    }

    [Fact]
    public void Synth_prints_a_summary_with_counts_truth_path_and_time()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        string sheet = Path.Combine(temp.Path, "sheet.png");
        var (code, output, err) = RunCli(SmallArgs(temp.Combine("set"), "--holdout-per-identity", "2", "--contact-sheet", sheet));
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("3 identities", output);
        Assert.Contains("24 images", output);
        Assert.Contains("bad 6", output);
        Assert.Contains("not-a-face", output);
        Assert.Contains("hard 1", output);
        Assert.Contains(SynthTruth.PathFor(temp.Combine("set")), output);
        Assert.Contains("holdout: 6 clean images", output);
        Assert.Contains("took", output);
        Assert.True(new FileInfo(sheet).Length > 1000, "the contact sheet was not written");
    }

    [Fact]
    public void A_contact_sheet_inside_the_face_set_is_refused()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var (code, _, err) = RunCli(SmallArgs(temp.Combine("set"), "--contact-sheet", Path.Combine(temp.Combine("set"), "sheet.png")));
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--contact-sheet", err);
        Assert.False(Directory.Exists(temp.Combine("set")));
    }

    [Fact]
    public void A_non_empty_out_folder_is_refused_without_force()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        Directory.CreateDirectory(temp.Combine("set"));
        string precious = Path.Combine(temp.Combine("set"), "precious.txt");
        File.WriteAllText(precious, "mine");

        var (code, _, err) = RunCli(SmallArgs(temp.Combine("set")));
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains(temp.Combine("set"), err);
        Assert.Contains("--force", err);

        // --force without a truth file cannot tell what synth wrote, so it deletes nothing.
        (code, _, err) = RunCli(SmallArgs(temp.Combine("set"), "--force"));
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("nothing was deleted", err);
        Assert.Equal("mine", File.ReadAllText(precious));
    }

    [Fact]
    public void Force_replaces_an_earlier_generation_and_refuses_when_foreign_files_are_mixed_in()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        Assert.Equal(ExitCodes.Ok, RunCli(SmallArgs(temp.Combine("set"), "--holdout-per-identity", "2")).Code);
        Assert.Equal(ExitCodes.UserError, RunCli(SmallArgs(temp.Combine("set"))).Code);

        // Replace with fewer images and no holdout: every old file and the old holdout folder go.
        var (code, output, err) = RunCli("synth", "--out", temp.Combine("set"), "--identities", "2", "--per-identity", "5", "--bad-fraction", "0.2", "--size", "16", "--force");
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("deleted 30 files", output);
        var truth = SynthTruth.Load(SynthTruth.PathFor(temp.Combine("set")));
        var onDisk = Directory.EnumerateFiles(temp.Combine("set"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(temp.Combine("set"), f).Replace('\\', '/')).Order().ToList();
        Assert.Equal(truth.Files.Select(f => f.Path).Order(), onDisk);
        Assert.Equal(["person-01", "person-02"], Directory.GetDirectories(temp.Combine("set")).Select(Path.GetFileName).Order());
        Assert.False(Directory.Exists(temp.Combine("set") + ".holdout"));

        // A file synth did not write: --force refuses and deletes nothing.
        string foreign = Path.Combine(temp.Combine("set"), "person-01", "my-photo.png");
        File.WriteAllText(foreign, "not synth");
        (code, _, err) = RunCli(SmallArgs(temp.Combine("set"), "--force"));
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("person-01/my-photo.png", err);
        Assert.True(File.Exists(foreign));
        Assert.All(truth.Files, f => Assert.True(File.Exists(Path.Combine(temp.Combine("set"), f.Path)), $"{f.Path} was deleted by a refused --force"));
    }

    [Fact]
    public void A_truth_file_that_is_not_synth_is_never_overwritten()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        string truthPath = SynthTruth.PathFor(temp.Combine("set"));
        File.WriteAllText(truthPath, "{\"hello\": 1}");
        var (code, _, err) = RunCli(SmallArgs(temp.Combine("set"), "--force"));
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains(truthPath, err);
        Assert.Equal("{\"hello\": 1}", File.ReadAllText(truthPath));
    }
}
