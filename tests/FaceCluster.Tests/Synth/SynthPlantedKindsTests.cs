using FaceCluster.Tests.Support;
using FaceCluster.Synth;

namespace FaceCluster.Tests.Synth;

/// <summary>
/// Guards the generator against drawing bad faces that are not really bad: every planted kind must differ from
/// the good faces of its identity in simple image statistics, and good faces must not.
/// </summary>
[Trait("Tier", "unit")]
public sealed class SynthPlantedKindsTests(SynthPlantedKindsFixture set) : IClassFixture<SynthPlantedKindsFixture>
{
    private readonly SynthTruth _truth = set.Truth;
    private readonly Dictionary<string, SynthImageStats> _stats = set.Stats;

    private IEnumerable<SynthFileEntry> Good(string identity) => _truth.Files.Where(f => f.Identity == identity && f.Kind == SynthKind.Good);

    private IEnumerable<SynthFileEntry> OfKind(SynthKind kind) => _truth.Files.Where(f => f.Kind == kind);

    /// <summary>Correlation of the image's detail (lighting removed) with the mean good face of an identity, inside the face area.</summary>
    private double FaceLikeness(SynthFileEntry entry, string identity) => SynthImageStats.Correlate(_stats[entry.Path].Detail, set.MeanFace[identity], set.FaceMask);

    private double WorstGoodLikeness(string identity) => Good(identity).Min(f => FaceLikeness(f, identity));

    [Fact]
    public void Good_faces_resemble_their_own_identity_more_than_any_other()
    {
        foreach (var identity in _truth.Identities)
            foreach (var entry in Good(identity.Name))
            {
                double own = FaceLikeness(entry, identity.Name);
                Assert.True(own > 0.35, $"{entry.Path}: a good face correlates only {own:0.00} with its identity's mean face");
                foreach (var other in _truth.Identities.Where(o => o.Name != identity.Name))
                    Assert.True(own > FaceLikeness(entry, other.Name), $"{entry.Path} looks more like {other.Name} than like {identity.Name}");
            }
    }

    [Fact]
    public void Not_a_face_images_have_much_more_fine_detail_and_no_face_structure()
    {
        var bad = OfKind(SynthKind.NotAFace).ToList();
        Assert.NotEmpty(bad);
        double goodDetail = _truth.Files.Where(f => f.Kind == SynthKind.Good).Average(f => _stats[f.Path].FineDetail);
        double badDetail = bad.Average(f => _stats[f.Path].FineDetail);
        Assert.True(badDetail > 1.5 * goodDetail, $"not-a-face fine detail {badDetail:0.00} is not well above good faces' {goodDetail:0.00}");
        foreach (var entry in bad)
        {
            double likeness = FaceLikeness(entry, entry.Identity);
            Assert.True(likeness < 0.3, $"{entry.Path} ({entry.Detail}) correlates {likeness:0.00} with its identity's face");
        }
    }

    [Fact]
    public void Blank_or_overexposed_images_are_nearly_flat_or_nearly_white()
    {
        static bool FlatOrWhite(SynthImageStats s, double goodStd) => s.Std < 0.5 * goodStd || s.Mean > 225;
        foreach (var identity in _truth.Identities)
        {
            double minGoodStd = Good(identity.Name).Min(f => _stats[f.Path].Std);
            foreach (var entry in _truth.Files.Where(f => f.Identity == identity.Name && f.Kind == SynthKind.BlankOrOverexposed))
                Assert.True(FlatOrWhite(_stats[entry.Path], minGoodStd), $"{entry.Path} ({entry.Detail}): mean {_stats[entry.Path].Mean:0}, std {_stats[entry.Path].Std:0.0}");
            foreach (var entry in Good(identity.Name))
                Assert.False(FlatOrWhite(_stats[entry.Path], minGoodStd), $"good face {entry.Path} looks blank");
        }
    }

    [Theory]
    [InlineData(SynthKind.Misaligned)]
    [InlineData(SynthKind.Occluded)]
    public void Misaligned_and_occluded_faces_match_their_identity_worse_than_every_good_face(SynthKind kind)
    {
        var bad = OfKind(kind).ToList();
        Assert.NotEmpty(bad);
        foreach (var entry in bad)
        {
            double likeness = FaceLikeness(entry, entry.Identity), worstGood = WorstGoodLikeness(entry.Identity);
            Assert.True(likeness < worstGood, $"{entry.Path} ({entry.Detail}) correlates {likeness:0.00} with its identity's face; the worst good face {worstGood:0.00}");
        }
    }

    [Fact]
    public void Wrong_identity_faces_resemble_their_source_identity_not_their_folder()
    {
        var bad = OfKind(SynthKind.WrongIdentity).ToList();
        Assert.NotEmpty(bad);
        foreach (var entry in bad)
        {
            double own = FaceLikeness(entry, entry.Identity), source = FaceLikeness(entry, entry.SourceIdentity!);
            Assert.True(source > own + 0.2, $"{entry.Path}: likeness to its folder {own:0.00}, to {entry.SourceIdentity} {source:0.00}");
        }
    }
}
