using System.Security.Cryptography;
using FaceCluster.Common.IO;
using FaceCluster.Synth;
using FaceCluster.Synth.Planting;
using FaceCluster.Tests.Support;
using OpenCvSharp;
using static FaceCluster.Tests.Support.CliRunner;

namespace FaceCluster.Tests.Synth;

[Trait("Tier", "unit")]
public class FacePlanterTests
{
    private static Dictionary<string, string> Hashes(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);

    [Fact]
    public void A_real_set_is_copied_with_a_tenth_planted_in_every_kind_and_the_source_untouched()
    {
        using var temp = new ScratchFolder("fc-plant");
        var before = Hashes(RealFaceSets.Cmu);
        var result = FacePlanter.Plant(new PlantOptions { SourceDir = RealFaceSets.Cmu, OutDir = temp.Combine("cmu"), Seed = 3, FaceBox = FaceBoxMode.Centre });
        Assert.Equal(before, Hashes(RealFaceSets.Cmu));

        var truth = SynthTruth.Load(result.TruthPath);
        Assert.Equal(SynthTruth.PlantGeneratorName, truth.Generator);
        Assert.Equal(RealFaceSets.Cmu, truth.Plant!.Source);
        // A wrong-identity face is moved: its donor's own file is not in the copy, nor in the truth.
        var donors = truth.BadFiles.Where(f => f.Kind == SynthKind.WrongIdentity).Select(f => f.Detail!.Split('(', ')')[1]).ToHashSet();
        Assert.NotEmpty(donors);
        Assert.Equal(before.Count - donors.Count, truth.Files.Count);
        Assert.DoesNotContain(truth.Files, f => donors.Contains(f.Path));
        Assert.Equal((int)Math.Round(0.1 * before.Count), truth.Totals.Bad);
        foreach (var kind in SynthKinds.Bad)
            Assert.InRange(truth.Totals.ByKind[kind.WireName()], truth.Totals.Bad / 5, truth.Totals.Bad / 5 + 1);
        foreach (var identity in truth.Files.GroupBy(f => f.Identity))
            Assert.True(identity.Count(f => f.IsBad) <= identity.Count() / 2, identity.Key);

        var after = Hashes(result.DataDir);
        Assert.Equal(before.Keys.Where(k => !donors.Contains(k)).Order(), after.Keys.Order());
        foreach (var file in truth.Files)
        {
            // Unplanted files are byte-for-byte copies; planted ones keep the name and format but not the pixels.
            if (file.IsBad) Assert.NotEqual(before[file.Path], after[file.Path]);
            else Assert.Equal(before[file.Path], after[file.Path]);
            if (file.IsBad) Assert.False(string.IsNullOrEmpty(file.Detail), file.Path);
        }
        using var planted = Cv2.ImRead(Path.Combine(result.DataDir, truth.BadFiles.First().Path), ImreadModes.Unchanged);
        Assert.Equal(1, planted.Channels()); // a greyscale set stays greyscale
    }

    [Fact]
    public async Task A_named_pipe_among_the_source_images_is_left_out_by_name_and_does_not_hang_plant()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var temp = new ScratchFolder("fc-plant-fifo");
        string source = temp.Combine("source");
        foreach (string identity in new[] { "an2i", "at33", "boland" })
        {
            Directory.CreateDirectory(Path.Combine(source, identity));
            foreach (string file in Directory.GetFiles(Path.Combine(RealFaceSets.Cmu, identity)))
                File.Copy(file, Path.Combine(source, identity, Path.GetFileName(file)));
        }
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(source, "an2i", "pipe.pgm")])!;
        await mkfifo.WaitForExitAsync();
        Assert.Equal(0, mkfifo.ExitCode);
        // Before, the pipe blocked plant for ever.
        var result = await Task.Run(() => FacePlanter.Plant(new PlantOptions { SourceDir = source, OutDir = temp.Combine("out"), Seed = 3, FaceBox = FaceBoxMode.Centre }))
            .WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Contains(result.Unreadable, u => u.StartsWith("an2i/pipe.pgm: not a regular file", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(temp.Combine("out"), "an2i", "pipe.pgm")));
    }

    [Fact]
    public void The_same_seed_gives_the_same_copy_and_another_seed_another()
    {
        using var temp = new ScratchFolder("fc-plant");
        PlantResult Plant(string name, int seed) =>
            FacePlanter.Plant(new PlantOptions { SourceDir = RealFaceSets.LfwCrop, OutDir = temp.Combine(name), Seed = seed, FaceBox = FaceBoxMode.Centre });
        var a = Plant("a", 5);
        var b = Plant("b", 5);
        var c = Plant("c", 6);
        Assert.Equal(Hashes(a.DataDir), Hashes(b.DataDir));
        Assert.Equal(a.Truth.Files, b.Truth.Files);
        Assert.NotEqual(a.Truth.BadFiles.Select(f => f.Path).Order(), c.Truth.BadFiles.Select(f => f.Path).Order());
    }

    [Fact]
    public void Every_kind_comes_in_several_variants_and_a_wrong_identity_is_another_person_s_real_face()
    {
        using var temp = new ScratchFolder("fc-plant");
        var result = FacePlanter.Plant(new PlantOptions { SourceDir = RealFaceSets.LfwCrop, OutDir = temp.Combine("lfw"), Fraction = 0.5, Seed = 2, FaceBox = FaceBoxMode.Centre });
        var truth = result.Truth;
        string Variant(SynthFileEntry f) => f.Detail!.Split(' ')[0];
        Assert.Equal(5, truth.BadFiles.Where(f => f.Kind == SynthKind.Misaligned).Select(Variant).Distinct().Count());
        Assert.True(truth.BadFiles.Where(f => f.Kind == SynthKind.Occluded).Select(Variant).Distinct().Count() >= 4);
        Assert.True(truth.BadFiles.Where(f => f.Kind == SynthKind.Occluded).Select(f => f.Detail!.Split("over the ")[1]).Distinct().Count() >= 3, "eyes, nose and mouth");
        Assert.Equal(3, truth.BadFiles.Where(f => f.Kind == SynthKind.NotAFace).Select(Variant).Distinct().Count());
        Assert.True(truth.BadFiles.Where(f => f.Kind == SynthKind.BlankOrOverexposed).Select(Variant).Distinct().Count() >= 4);

        var wrong = truth.BadFiles.Where(f => f.Kind == SynthKind.WrongIdentity).ToList();
        Assert.NotEmpty(wrong);
        Assert.Equal(wrong.Count, wrong.Select(f => f.Detail).Distinct().Count()); // each donor face used once
        foreach (var f in wrong)
        {
            Assert.NotNull(f.SourceIdentity);
            Assert.NotEqual(f.Identity, f.SourceIdentity);
            string donor = f.Detail!.Split('(', ')')[1];
            Assert.StartsWith(f.SourceIdentity + "/", donor);
            using var copy = Cv2.ImRead(Path.Combine(result.DataDir, f.Path));
            using var original = Cv2.ImRead(Path.Combine(RealFaceSets.LfwCrop, donor));
            Assert.Equal(0, Cv2.Norm(copy, original, NormTypes.INF)); // same size, and PPM is lossless
            // Moved, not copied: the photo is only under the wrong name, and the truth does not count it as good.
            Assert.False(File.Exists(Path.Combine(result.DataDir, donor)), donor);
            Assert.DoesNotContain(truth.Files, g => g.Path == donor);
        }
    }

    [Fact]
    public void Bad_flags_and_bad_folders_are_refused_with_a_message_naming_them()
    {
        using var temp = new ScratchFolder("fc-plant");
        var (code, _, err) = RunCli("plant", "--faces", RealFaceSets.Cmu, "--out", temp.Combine("x"), "--fraction", "0.7");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--fraction 0.7", err);
        (code, _, err) = RunCli("plant", "--faces", RealFaceSets.Cmu, "--out", temp.Combine("x"), "--kinds", "misaligned,smudged");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("'smudged'", err);
        (code, _, err) = RunCli("plant", "--faces", RealFaceSets.Cmu, "--out", temp.Combine("x"), "--face-box", "psychic");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("'psychic'", err);
        (code, _, err) = RunCli("plant", "--faces", temp.Combine("none"), "--out", temp.Combine("x"));
        Assert.NotEqual(0, code);
        Assert.Contains(temp.Combine("none"), err);
        (code, _, err) = RunCli("plant", "--faces", RealFaceSets.Cmu, "--out", Path.Combine(RealFaceSets.Cmu, "an2i", "copy"));
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("overlap", err);
        (code, _, err) = RunCli("plant", "--faces", RealFaceSets.Cmu, "--out", temp.Combine("x"), "--cascade-dir", temp.Combine("no-cascades"));
        Assert.NotEqual(0, code);
        Assert.Contains("haarcascade_frontalface_default.xml", err);
        Assert.False(Directory.Exists(temp.Combine("x")));
    }

    [Fact]
    public void A_corrupt_source_image_is_left_out_by_name_and_an_earlier_copy_is_replaced_only_with_force()
    {
        using var temp = new ScratchFolder("fc-plant");
        foreach (var who in new[] { "ann", "bob", "cy" })
            for (int i = 0; i < 6; i++) temp.Write($"src/{who}/{i}.png", TestImages.FaceBytes(".png", i + who.Length * 10));
        temp.Write("src/bob/broken.jpg", "not a jpeg"u8.ToArray());
        var options = new PlantOptions { SourceDir = temp.Combine("src"), OutDir = temp.Combine("out"), Fraction = 0.2, FaceBox = FaceBoxMode.Centre };
        var result = FacePlanter.Plant(options);
        Assert.Equal(18 - result.Truth.BadFiles.Count(f => f.Kind == SynthKind.WrongIdentity), result.Truth.Files.Count); // a donor is moved
        Assert.Contains(result.Unreadable, u => u.StartsWith("bob/broken.jpg", StringComparison.Ordinal));
        Assert.True(File.Exists(temp.Combine("src", "bob", "broken.jpg")));

        var again = Assert.Throws<FaceClusterException>(() => FacePlanter.Plant(options));
        Assert.Contains("--force", again.Message);
        temp.Write("out/ann/mine.txt", "a user's file"u8.ToArray());
        var foreign = Assert.Throws<FaceClusterException>(() => FacePlanter.Plant(options with { Force = true }));
        Assert.Contains("ann/mine.txt", foreign.Message);
        Assert.True(File.Exists(temp.Combine("out", "ann", "0.png")), "nothing is deleted when a foreign file is there");
        File.Delete(temp.Combine("out", "ann", "mine.txt"));
        var replaced = FacePlanter.Plant(options with { Force = true, Seed = 9 });
        Assert.Equal(result.Truth.Files.Count, replaced.ReplacedFiles); // every file of the first copy
    }

    [Fact]
    public void The_haar_cascade_finds_the_face_in_most_tight_crops()
    {
        if (!RealFaceSets.HaarCascadesInstalled)
        {
            Assert.Throws<FaceClusterException>(() => FaceBoxFinder.Create(FaceBoxMode.Haar, PlantOptions.DefaultCascadeDir));
            return;
        }
        using var temp = new ScratchFolder("fc-plant");
        var result = FacePlanter.Plant(new PlantOptions { SourceDir = RealFaceSets.LfwCrop, OutDir = temp.Combine("lfw") });
        Assert.Equal("haar", result.Truth.Plant!.FaceBox);
        Assert.True(result.FacesFound > result.Truth.Files.Count * 3 / 4, $"found {result.FacesFound} of {result.Truth.Files.Count}");
    }

    [Fact]
    public void The_cli_reports_what_it_planted_and_where_the_truth_is()
    {
        using var temp = new ScratchFolder("fc-plant");
        var (code, output, err) = RunCli("plant", "--faces", RealFaceSets.Cmu, "--out", temp.Combine("cmu"), "--kinds", "occluded,misaligned", "--face-box", "centre");
        Assert.True(code == 0, output + err);
        Assert.Contains("planted 31 bad", output);
        Assert.Contains("occluded 16", output);
        Assert.Contains("misaligned 15", output);
        Assert.DoesNotContain("wrong-identity", output);
        Assert.Contains(SynthTruth.PathFor(temp.Combine("cmu")), output);

        (code, output, err) = RunCli("plant", "--faces", RealFaceSets.Cmu, "--out", temp.Combine("all"), "--face-box", "centre");
        Assert.True(code == 0, output + err);
        Assert.Contains("plant: 307 images of 20 identities", output); // 313 less the 6 photos moved
        Assert.Contains("wrong-identity faces are moved, not copied: their 6 photos are only under the wrong name", output);
    }
}
