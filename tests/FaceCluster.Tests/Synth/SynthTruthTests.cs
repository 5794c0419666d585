using FaceCluster.Common.IO;
using System.Text.Json;
using FaceCluster.Synth;

namespace FaceCluster.Tests.Synth;

[Trait("Tier", "unit")]
public class SynthTruthTests
{
    [Fact]
    public void Load_reads_back_what_the_generator_wrote_with_kebab_case_kinds()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        var result = SynthGenerator.Generate(new SynthOptions { OutDir = temp.Combine("set"), Identities = 3, PerIdentity = 10, BadFraction = 0.5, Seed = 8, Size = 16, HoldoutPerIdentity = 1 });
        var loaded = SynthTruth.Load(result.TruthPath);

        Assert.Equal(SynthTruth.GeneratorName, loaded.Generator);
        Assert.Equal(SynthTruth.CurrentVersion, loaded.GeneratorVersion);
        Assert.True(loaded.Complete);
        Assert.Equal(8, loaded.Seed);
        Assert.Equal(result.Truth.Parameters, loaded.Parameters);
        Assert.Equal(result.Truth.Files, loaded.Files);
        Assert.Equal(result.Truth.Holdout, loaded.Holdout);
        Assert.Equal(result.Truth.Identities.Select(i => i.Traits), loaded.Identities.Select(i => i.Traits));
        Assert.Equal(15, loaded.BadFiles.Count());
        Assert.Equal(loaded.Files.Count, loaded.FilesByPath().Count);
        Assert.Equal(temp.Combine("set"), SynthTruth.DataDirFor(result.TruthPath));

        string json = File.ReadAllText(result.TruthPath);
        foreach (var kind in SynthKinds.Bad)
            Assert.Contains($"\"kind\": \"{kind.WireName()}\"", json);
        Assert.Equal("\"blank-or-overexposed\"", JsonSerializer.Serialize(SynthKind.BlankOrOverexposed));
    }

    [Fact]
    public void Load_refuses_missing_foreign_and_unfinished_files_naming_the_path()
    {
        using var temp = new ScratchFolder("fc-synth-test");
        string missing = Path.Combine(temp.Path, "none.truth.json");
        Assert.Contains(missing, Assert.Throws<FaceClusterException>(() => SynthTruth.Load(missing)).Message);

        string foreign = Path.Combine(temp.Path, "foreign.truth.json");
        File.WriteAllText(foreign, "[1, 2, 3]");
        Assert.Contains(foreign, Assert.Throws<FaceClusterException>(() => SynthTruth.Load(foreign)).Message);

        var result = SynthGenerator.Generate(new SynthOptions { OutDir = temp.Combine("set"), Identities = 2, PerIdentity = 5, Seed = 1, Size = 16 });
        string text = File.ReadAllText(result.TruthPath).Replace("\"complete\": true", "\"complete\": false");
        File.WriteAllText(result.TruthPath, text);
        var unfinished = Assert.Throws<FaceClusterException>(() => SynthTruth.Load(result.TruthPath));
        Assert.Contains("did not finish", unfinished.Message);

        string escaping = File.ReadAllText(result.TruthPath).Replace("\"complete\": false", "\"complete\": true").Replace("\"path\": \"person-01/", "\"path\": \"../person-01/");
        File.WriteAllText(result.TruthPath, escaping);
        Assert.Contains("../person-01/", Assert.Throws<FaceClusterException>(() => SynthTruth.Load(result.TruthPath)).Message);
    }
}
