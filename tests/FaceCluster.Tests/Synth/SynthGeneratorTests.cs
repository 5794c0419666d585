using FaceCluster.Common.IO;
using System.Text.RegularExpressions;
using FaceCluster.Synth;
using OpenCvSharp;

namespace FaceCluster.Tests.Synth;

[Trait("Tier", "unit")]
public class SynthGeneratorTests
{
    private static SynthOptions Small(string dir, int seed = 5) => new()
    {
        OutDir = dir, Identities = 4, PerIdentity = 12, BadFraction = 0.25, HardFraction = 0.05, Seed = seed, Size = 32,
    };

    private static Dictionary<string, byte[]> ReadAll(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), File.ReadAllBytes);

    [Fact]
    public void Same_seed_gives_identical_bytes_whatever_the_threading_and_another_seed_gives_other_faces()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var a = SynthGenerator.Generate(Small(temp.Combine("a")) with { HoldoutPerIdentity = 2 });
        var b = SynthGenerator.Generate(Small(temp.Combine("b")) with { HoldoutPerIdentity = 2, MaxParallelism = 1 });
        var c = SynthGenerator.Generate(Small(temp.Combine("c"), seed: 6) with { HoldoutPerIdentity = 2 });

        var filesA = ReadAll(a.DataDir);
        var filesB = ReadAll(b.DataDir);
        Assert.Equal(48, filesA.Count);
        Assert.Equal(filesA.Keys.Order(), filesB.Keys.Order());
        foreach (var (path, bytes) in filesA)
            Assert.True(bytes.AsSpan().SequenceEqual(filesB[path]), $"{path} differs between two runs with the same seed");
        var holdoutA = ReadAll(a.HoldoutDir!);
        var holdoutB = ReadAll(b.HoldoutDir!);
        Assert.Equal(8, holdoutA.Count);
        foreach (var (path, bytes) in holdoutA)
            Assert.True(bytes.AsSpan().SequenceEqual(holdoutB[path]), $"holdout {path} differs between two runs with the same seed");
        Assert.Equal(File.ReadAllBytes(a.TruthPath), File.ReadAllBytes(b.TruthPath));

        var filesC = ReadAll(c.DataDir);
        int same = filesA.Count(kv => filesC.TryGetValue(kv.Key, out var other) && kv.Value.AsSpan().SequenceEqual(other));
        Assert.Equal(0, same);
        Assert.NotEqual(a.Truth.Identities.Select(i => i.Traits), c.Truth.Identities.Select(i => i.Traits));
    }

    [Fact]
    public void Truth_lies_beside_the_set_and_lists_exactly_the_files_written_each_decoding_at_the_size()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var result = SynthGenerator.Generate(Small(temp.Combine("set")) with { Size = 48 });

        Assert.Equal(temp.Combine("set") + ".truth.json", result.TruthPath);
        Assert.True(File.Exists(result.TruthPath));
        Assert.False(result.TruthPath.StartsWith(result.DataDir + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(result.DataDir, "*.json", SearchOption.AllDirectories));

        var listed = result.Truth.Files.Select(f => f.Path).ToHashSet();
        Assert.Equal(48, listed.Count);
        var onDisk = Directory.EnumerateFiles(result.DataDir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(result.DataDir, f).Replace('\\', '/')).ToHashSet();
        Assert.Equal(listed.Order(), onDisk.Order());

        var name = new Regex(@"^(person-\d{2})/\1_\d{4}\.(png|jpg)$");
        foreach (var entry in result.Truth.Files)
        {
            Assert.Matches(name, entry.Path);
            Assert.StartsWith(entry.Identity + "/", entry.Path);
            using var image = Cv2.ImRead(Path.Combine(result.DataDir, entry.Path), ImreadModes.Unchanged);
            Assert.False(image.Empty(), $"{entry.Path} does not decode");
            Assert.Equal((48, 48, 3), (image.Rows, image.Cols, image.Channels()));
        }
        Assert.Contains(result.Truth.Files, f => f.Path.EndsWith(".jpg", StringComparison.Ordinal));
        Assert.Contains(result.Truth.Files, f => f.Path.EndsWith(".png", StringComparison.Ordinal));
        // File numbers do not give the kind away: bad images are not all at the start or end of a folder.
        Assert.True(result.Truth.Files.Where(f => f.IsBad).Select(f => f.Path[^8..^4]).Distinct().Count() > 3);
    }

    [Theory]
    [InlineData(4, 12, 0.25, 0.05)]
    [InlineData(5, 13, 0.3, 0.1)]
    [InlineData(3, 20, 0.07, 0.0)]
    public void Bad_images_match_the_fraction_and_spread_evenly_over_kinds_and_identities(int identities, int perIdentity, double bad, double hard)
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var options = new SynthOptions { OutDir = temp.Combine("set"), Identities = identities, PerIdentity = perIdentity, BadFraction = bad, HardFraction = hard, Seed = 3, Size = 16 };
        var truth = SynthGenerator.Generate(options).Truth;
        int expectedBad = (int)Math.Round(identities * perIdentity * bad, MidpointRounding.AwayFromZero);
        int expectedHard = (int)Math.Round(identities * perIdentity * hard, MidpointRounding.AwayFromZero);

        Assert.Equal(expectedBad, truth.Files.Count(f => f.IsBad));
        Assert.Equal(expectedHard, truth.Files.Count(f => f.Kind == SynthKind.Hard));
        Assert.Equal(expectedBad, truth.Totals.Bad);
        Assert.Equal(expectedHard, truth.Totals.Hard);
        Assert.Equal(identities * perIdentity, truth.Totals.Images);

        var perKind = SynthKinds.Bad.Select(k => truth.Files.Count(f => f.Kind == k)).ToList();
        Assert.True(perKind.Max() - perKind.Min() <= 1, $"bad kinds are uneven: {string.Join(", ", perKind)}");
        foreach (var kind in SynthKinds.All)
            Assert.Equal(truth.Files.Count(f => f.Kind == kind), truth.Totals.ByKind[kind.WireName()]);

        var perIdentity_ = truth.Identities.Select(i => truth.Files.Count(f => f.Identity == i.Name && f.IsBad)).ToList();
        Assert.True(perIdentity_.Max() - perIdentity_.Min() <= 1, $"bad images are uneven over identities: {string.Join(", ", perIdentity_)}");
        var notGood = truth.Identities.Select(i => truth.Files.Count(f => f.Identity == i.Name && f.Kind != SynthKind.Good)).ToList();
        Assert.True(notGood.Max() - notGood.Min() <= 1, $"bad + hard images are uneven over identities: {string.Join(", ", notGood)}");
    }

    [Fact]
    public void Wrong_identity_entries_name_another_existing_identity_and_no_other_entry_has_a_source()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var truth = SynthGenerator.Generate(Small(temp.Combine("set")) with { BadFraction = 0.4 }).Truth;
        var names = truth.Identities.Select(i => i.Name).ToHashSet();
        var wrong = truth.Files.Where(f => f.Kind == SynthKind.WrongIdentity).ToList();
        Assert.NotEmpty(wrong);
        foreach (var entry in wrong)
        {
            Assert.NotNull(entry.SourceIdentity);
            Assert.NotEqual(entry.Identity, entry.SourceIdentity);
            Assert.Contains(entry.SourceIdentity!, names);
        }
        Assert.All(truth.Files.Where(f => f.Kind != SynthKind.WrongIdentity), f => Assert.Null(f.SourceIdentity));
        Assert.All(truth.Files.Where(f => f.Kind != SynthKind.Good), f => Assert.False(string.IsNullOrEmpty(f.Detail)));
    }

    [Fact]
    public void Every_identity_keeps_at_least_three_good_images_at_the_tightest_allowed_setting()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        // 4 × 8 with half bad and 10 % hard: 16 bad + 3 hard, at most 5 per identity, so exactly 3 good remain somewhere.
        var truth = SynthGenerator.Generate(new SynthOptions { OutDir = temp.Combine("set"), Identities = 4, PerIdentity = 8, BadFraction = 0.5, HardFraction = 0.1, Seed = 9, Size = 16 }).Truth;
        var good = truth.Identities.Select(i => truth.Files.Count(f => f.Identity == i.Name && f.Kind == SynthKind.Good)).ToList();
        Assert.All(good, g => Assert.True(g >= SynthOptions.MinGoodPerIdentity, $"an identity has only {g} good images"));
        Assert.Equal(SynthOptions.MinGoodPerIdentity, good.Min());
    }

    [Fact]
    public void One_identity_set_skips_wrong_identity_and_still_spreads_the_other_kinds()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var truth = SynthGenerator.Generate(new SynthOptions { OutDir = temp.Combine("set"), Identities = 1, PerIdentity = 20, BadFraction = 0.4, Seed = 2, Size = 16 }).Truth;
        Assert.Equal(8, truth.Totals.Bad);
        Assert.DoesNotContain(truth.Files, f => f.Kind == SynthKind.WrongIdentity);
        Assert.All(SynthKinds.Bad.Where(k => k != SynthKind.WrongIdentity), k => Assert.Equal(2, truth.Files.Count(f => f.Kind == k)));
    }

    [Fact]
    public void Holdout_holds_the_requested_clean_images_per_identity_beside_the_set()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var result = SynthGenerator.Generate(Small(temp.Combine("set")) with { HoldoutPerIdentity = 3 });

        Assert.Equal(temp.Combine("set") + ".holdout", result.HoldoutDir);
        Assert.Equal(12, result.Truth.Holdout.Count);
        Assert.Equal(12, result.Truth.Totals.Holdout);
        Assert.All(result.Truth.Holdout, h => Assert.Equal(SynthKind.Good, h.Kind));
        var training = ReadAll(result.DataDir).Values.ToList();
        foreach (var identity in result.Truth.Identities)
        {
            string folder = Path.Combine(result.HoldoutDir!, identity.Name);
            var files = Directory.GetFiles(folder);
            Assert.Equal(3, files.Length);
            foreach (string file in files)
            {
                string relative = Path.GetRelativePath(result.HoldoutDir!, file).Replace('\\', '/');
                Assert.Contains(result.Truth.Holdout, h => h.Path == relative && h.Identity == identity.Name);
                using var image = Cv2.ImRead(file);
                Assert.Equal((32, 32), (image.Rows, image.Cols));
                byte[] bytes = File.ReadAllBytes(file);
                Assert.DoesNotContain(training, t => t.AsSpan().SequenceEqual(bytes));
            }
        }
        Assert.Equal(Directory.GetDirectories(result.HoldoutDir!).Length, result.Truth.Identities.Count);

        using var none = new ScratchFolder("fc-synth-test");
        var without = SynthGenerator.Generate(Small(none.Combine("set")));
        Assert.Null(without.HoldoutDir);
        Assert.False(Directory.Exists(none.Combine("set") + ".holdout"));
        Assert.Empty(without.Truth.Holdout);
    }

    [Fact]
    public void Identities_are_spread_apart_in_skin_tone_hair_colour_and_style()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var truth = SynthGenerator.Generate(new SynthOptions { OutDir = temp.Combine("set"), Identities = 6, PerIdentity = 4, BadFraction = 0, HardFraction = 0, Seed = 21, Size = 16 }).Truth;
        var traits = truth.Identities.Select(i => i.Traits!).ToList();
        // No two identities share the same skin tone, hair colour and hair style all at once.
        Assert.Equal(traits.Count, traits.Select(t => (t.SkinToneName, t.HairColourName, t.HairStyle)).Distinct().Count());
        Assert.True(traits.Select(t => t.HairStyle).Distinct().Count() >= 4, "hair styles are not spread");
        Assert.True(traits.Select(t => t.SkinToneName).Distinct().Count() >= 4, "skin tones are not spread");
        Assert.All(truth.Identities, i => Assert.False(string.IsNullOrWhiteSpace(i.Summary)));
    }
}
