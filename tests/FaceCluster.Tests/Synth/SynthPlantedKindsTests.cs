using FaceCluster.Common.FaceSet.Synth;
using OpenCvSharp;

namespace FaceCluster.Tests.Synth;

/// <summary>
/// Guards the generator against drawing bad faces that are not really bad: every planted kind must differ from
/// the good faces of its identity in simple image statistics, and good faces must not.
/// </summary>
[Trait("Tier", "unit")]
public sealed class SynthPlantedKindsTests : IDisposable
{
    private const int Size = 48;
    private readonly SynthTempDir _temp = new();
    private readonly SynthTruth _truth;
    private readonly Dictionary<string, Stats> _stats;
    private readonly Dictionary<string, Mat> _meanFace;
    private readonly Mat _faceMask;

    public SynthPlantedKindsTests()
    {
        var result = SynthGenerator.Generate(new SynthOptions
        {
            OutDir = _temp.Set(), Identities = 4, PerIdentity = 30, BadFraction = 0.34, HardFraction = 0.1, Seed = 11, Size = Size,
        });
        _truth = result.Truth;
        _stats = _truth.Files.ToDictionary(f => f.Path, f => Stats.Of(Path.Combine(result.DataDir, f.Path)));
        _meanFace = _truth.Identities.ToDictionary(i => i.Name, i =>
        {
            var goods = Good(i.Name).ToList();
            var sum = new Mat(Size, Size, MatType.CV_32F, Scalar.All(0));
            foreach (var f in goods) Cv2.Add(sum, _stats[f.Path].Detail, sum);
            sum.ConvertTo(sum, -1, 1.0 / goods.Count);
            return sum;
        });
        // Where an aligned face is: the centre of the crop, not the background.
        _faceMask = new Mat(Size, Size, MatType.CV_8U, Scalar.All(0));
        Cv2.Ellipse(_faceMask, new Point(Size / 2, (int)(Size * 0.55)), new Size((int)(Size * 0.3), (int)(Size * 0.38)), 0, 0, 360, Scalar.All(255), -1);
    }

    public void Dispose()
    {
        foreach (var s in _stats.Values) s.Detail.Dispose();
        foreach (var m in _meanFace.Values) m.Dispose();
        _faceMask.Dispose();
        _temp.Dispose();
    }

    private IEnumerable<SynthFileEntry> Good(string identity) => _truth.Files.Where(f => f.Identity == identity && f.Kind == SynthKind.Good);

    private IEnumerable<SynthFileEntry> OfKind(SynthKind kind) => _truth.Files.Where(f => f.Kind == kind);

    /// <summary>Correlation of the image's detail (lighting removed) with the mean good face of an identity, inside the face area.</summary>
    private double FaceLikeness(SynthFileEntry entry, string identity) => Correlate(_stats[entry.Path].Detail, _meanFace[identity], _faceMask);

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
        static bool FlatOrWhite(Stats s, double goodStd) => s.Std < 0.5 * goodStd || s.Mean > 225;
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

    private static double Correlate(Mat a, Mat b, Mat mask)
    {
        Cv2.MeanStdDev(a, out var meanA, out var stdA, mask);
        Cv2.MeanStdDev(b, out var meanB, out var stdB, mask);
        if (stdA.Val0 < 1e-3 || stdB.Val0 < 1e-3) return 0;
        using var da = new Mat();
        using var db = new Mat();
        Cv2.Subtract(a, meanA, da);
        Cv2.Subtract(b, meanB, db);
        using var product = new Mat();
        Cv2.Multiply(da, db, product);
        return Cv2.Mean(product, mask).Val0 / (stdA.Val0 * stdB.Val0);
    }

    /// <summary>Grey-level statistics of one image. Detail is the grey image minus its blur (lighting removed).</summary>
    private sealed record Stats(double Mean, double Std, double FineDetail, Mat Detail)
    {
        public static Stats Of(string path)
        {
            using var colour = Cv2.ImRead(path);
            using var grey8 = new Mat();
            Cv2.CvtColor(colour, grey8, ColorConversionCodes.BGR2GRAY);
            using var grey = new Mat();
            grey8.ConvertTo(grey, MatType.CV_32F);
            Cv2.MeanStdDev(grey, out var mean, out var std);
            using var laplacian = new Mat();
            Cv2.Laplacian(grey, laplacian, MatType.CV_32F);
            Cv2.MeanStdDev(laplacian, out _, out var lapStd);
            using var low = new Mat();
            Cv2.GaussianBlur(grey, low, new Size(0, 0), Size * 0.08);
            var detail = new Mat();
            Cv2.Subtract(grey, low, detail);
            // Fine detail relative to contrast, so a low-contrast pattern still counts as busy.
            return new Stats(mean.Val0, std.Val0, lapStd.Val0 / Math.Max(1, std.Val0), detail);
        }
    }
}
