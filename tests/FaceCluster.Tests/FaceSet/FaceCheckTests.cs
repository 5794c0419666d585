using FaceCluster.Common.FaceSet;
using FaceCluster.Common.FaceSet.FaceCheck;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Runs;
using FaceCluster.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace FaceCluster.Tests.FaceSet;

/// <summary>The face prior: OpenCV's Haar cascades on real faces, the judge of a set's typical face, and the run's cache.</summary>
[Trait("Tier", "unit")]
public class FaceCheckTests
{
    [Fact]
    public void Real_faces_are_found_and_a_blank_a_texture_and_an_upside_down_face_are_not()
    {
        using var checker = FaceStructureChecker.TryCreate(FaceStructureChecker.DefaultCascadeDir, out string? whyNot);
        if (checker is null)
        {
            // Where opencv-data is missing the run goes without the prior; the reason names the file.
            Assert.Contains("haarcascade_", whyNot);
            return;
        }
        var files = Directory.GetFiles(RealFaceSets.LfwCrop, "*.ppm", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(64).ToList();
        var results = files.Select(f => checker.Check(File.ReadAllBytes(f))).ToList();
        Assert.True(results.Count(r => r.Found) >= files.Count * 85 / 100, $"found a face in {results.Count(r => r.Found)} of {files.Count} LFWcrop faces");

        using var grey = new Mat(64, 64, MatType.CV_8UC1, Scalar.All(128));
        Assert.False(checker.Check(grey).Found);
        using var noise = new Mat(64, 64, MatType.CV_8UC1);
        var bytes = new byte[64 * 64];
        new Random(4).NextBytes(bytes);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, noise.Data, bytes.Length);
        Assert.False(checker.Check(noise).Found);

        int found = 0, upsideDownFound = 0;
        foreach (var f in files.Where((_, i) => results[i].HasBox).Take(20))
        {
            using var face = Cv2.ImRead(f, ImreadModes.Grayscale);
            using var flipped = new Mat();
            Cv2.Flip(face, flipped, FlipMode.X);
            found++;
            var r = checker.Check(flipped);
            if (r.Found && (!r.HasBox || Math.Abs(r.CentreY - 0.4f) < 0.2f)) upsideDownFound++;
        }
        Assert.True(upsideDownFound <= found / 5, $"{upsideDownFound} of {found} upside-down faces still found");
    }

    [Fact]
    public void The_judge_marks_no_face_and_a_face_far_from_the_set_s_typical_place_or_size()
    {
        var results = new Dictionary<int, FaceCheckResult>();
        for (int i = 0; i < 10; i++) results[i] = new FaceCheckResult(true, 0.5f + i * 0.005f, 0.42f, 1.2f);
        results[10] = FaceCheckResult.None;                              // nothing found
        results[11] = new FaceCheckResult(true, 0.5f, 0.42f, 0.55f);     // a face half the size: a bad crop or a shift
        results[12] = new FaceCheckResult(true, 0.85f, 0.42f, 1.2f);     // far to the side
        results[13] = new FaceCheckResult(true, float.NaN, float.NaN, float.NaN); // a profile: found, no box
        results[14] = new FaceCheckResult(true, 0.55f, 0.5f, 1.4f);      // within the tolerances
        var outliers = FaceCheckJudge.NoTypicalFace(results);
        Assert.Equal([10, 11, 12], outliers.Order());
    }

    [Fact]
    public void A_run_checks_its_training_images_once_and_keeps_the_results_by_content()
    {
        if (!FaceStructureChecker.Available()) return; // covered by the first test's message
        using var run = new ScratchFolder("fc-facecheck");
        var manifest = ManifestStore.LoadOrBuild(RealFaceSets.LfwCrop, run.Path, new ScanOptions()).Manifest;
        var log = new ListLogger();
        var first = RunFaceCheck.NoFaceSamples(run.Path, manifest, enabled: true, log);
        Assert.NotNull(first);
        string cache = Path.Combine(run.Path, RunFaceCheck.FileName);
        Assert.True(File.Exists(cache));
        Assert.True(log.Contains("images checked"), log.Text);
        Assert.True(first!.Count < manifest.TrainingSamples.Count() / 5, $"{first.Count} of {manifest.TrainingSamples.Count()} real faces judged faceless");

        var again = new ListLogger();
        var second = RunFaceCheck.NoFaceSamples(run.Path, manifest, enabled: true, again);
        Assert.Equal(first.Order(), second!.Order());
        Assert.False(again.Contains("images checked"), again.Text); // nothing new to check

        File.WriteAllText(cache, "{ not json");
        var third = RunFaceCheck.NoFaceSamples(run.Path, manifest, enabled: true, new ListLogger());
        Assert.Equal(first.Order(), third!.Order());
        Assert.Null(RunFaceCheck.NoFaceSamples(run.Path, manifest, enabled: false, NullLogger.Instance));
        Assert.Null(RunFaceCheck.NoFaceSamples(run.Path, manifest, enabled: true, NullLogger.Instance, cascadeDir: run.Combine("none")));
    }
}
