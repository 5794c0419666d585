using FaceCluster.Cli.Demo;
using FaceCluster.Synth;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "unit")]
public class DemoVerdictTests
{
    private static SynthTruth Truth(params (string Path, SynthKind Kind)[] files) => new()
    {
        Generator = SynthTruth.GeneratorName, GeneratorVersion = SynthTruth.CurrentVersion, Complete = true, Seed = 1,
        Parameters = new SynthParameters { Identities = 1, PerIdentity = files.Length, BadFraction = 0.1, HardFraction = 0, Size = 32, HoldoutPerIdentity = 0, JpegFraction = 0 },
        Identities = [],
        Files = files.Select(f => new SynthFileEntry { Path = f.Path, Identity = "a", Kind = f.Kind }).ToList(),
        Holdout = [],
        Totals = new SynthTotals { Images = files.Length, Good = 0, Hard = 0, Bad = 0, ByKind = new Dictionary<string, int>(), Holdout = 0 },
    };

    [Fact]
    public void Precision_and_recall_count_only_the_judged_training_split()
    {
        var truth = Truth(("a/1.png", SynthKind.Good), ("a/2.png", SynthKind.NotAFace), ("a/3.png", SynthKind.Occluded),
            ("a/4.png", SynthKind.Good), ("a/5.png", SynthKind.Misaligned), ("a/6.png", SynthKind.Hard));
        var judged = new[] { "a/1.png", "a/2.png", "a/3.png", "a/4.png", "a/6.png" }; // a/5 fell in the validation split
        var flagged = new HashSet<string> { "a/2.png", "a/4.png" };
        var v = DemoVerdict.Measure(flagged, judged, truth);
        Assert.Equal(2, v.Flagged);
        Assert.Equal(1, v.TruePositives);
        Assert.Equal(2, v.Planted);
        Assert.Equal(3, v.Good);
        Assert.Equal(1, v.PlantedInValidation);
        Assert.Equal(0.5, v.Precision);
        Assert.Equal(0.5, v.Recall);
        Assert.Equal(1.0 / 3, v.GoodQuarantinedFraction, 9);
        Assert.Equal("verdict: precision=0.50 recall=0.50 flagged=2 planted=2", v.Line);
        Assert.Equal([("not-a-face", 1, 1), ("occluded", 0, 1)], v.ByKind);
        Assert.Equal("not-a-face 1/1, occluded 0/1", v.ByKindLine);
    }

    [Fact]
    public void Nothing_flagged_is_zero_precision_and_zero_recall()
    {
        var truth = Truth(("a/1.png", SynthKind.Good), ("a/2.png", SynthKind.BlankOrOverexposed));
        var v = DemoVerdict.Measure(new HashSet<string>(), ["a/1.png", "a/2.png"], truth);
        Assert.Equal("verdict: precision=0.00 recall=0.00 flagged=0 planted=1", v.Line);
    }
}
