using FaceCluster.Common.IO;
using FaceCluster.Synth;
using OpenCvSharp;

namespace FaceCluster.Tests.Support;

/// <summary>One generated set and its image statistics, shared by the tests of <see cref="SynthPlantedKindsTests"/>.</summary>
public sealed class SynthPlantedKindsFixture : IDisposable
{
    public const int Size = 48;
    private readonly ScratchFolder _temp = new();

    public SynthPlantedKindsFixture()
    {
        var result = SynthGenerator.Generate(new SynthOptions
        {
            OutDir = _temp.Combine("set"), Identities = 4, PerIdentity = 30, BadFraction = 0.34, HardFraction = 0.1, Seed = 11, Size = Size,
        });
        Truth = result.Truth;
        Stats = Truth.Files.ToDictionary(f => f.Path, f => SynthImageStats.Of(Path.Combine(result.DataDir, f.Path)));
        MeanFace = Truth.Identities.ToDictionary(i => i.Name, i =>
        {
            var goods = Truth.Files.Where(f => f.Identity == i.Name && f.Kind == SynthKind.Good).ToList();
            var sum = new Mat(Size, Size, MatType.CV_32F, Scalar.All(0));
            foreach (var f in goods) Cv2.Add(sum, Stats[f.Path].Detail, sum);
            sum.ConvertTo(sum, -1, 1.0 / goods.Count);
            return sum;
        });
        // Where an aligned face is: the centre of the crop, not the background.
        FaceMask = new Mat(Size, Size, MatType.CV_8U, Scalar.All(0));
        Cv2.Ellipse(FaceMask, new Point(Size / 2, (int)(Size * 0.55)), new OpenCvSharp.Size((int)(Size * 0.3), (int)(Size * 0.38)), 0, 0, 360, Scalar.All(255), -1);
    }

    public SynthTruth Truth { get; }
    public Dictionary<string, SynthImageStats> Stats { get; }
    /// <summary>Mean detail image of each identity's good faces.</summary>
    public Dictionary<string, Mat> MeanFace { get; }
    public Mat FaceMask { get; }

    public void Dispose()
    {
        foreach (var s in Stats.Values) s.Detail.Dispose();
        foreach (var m in MeanFace.Values) m.Dispose();
        FaceMask.Dispose();
        _temp.Dispose();
    }
}
