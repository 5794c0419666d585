using FaceCluster.Common.FaceSet.Texture;
using FaceCluster.Tests.Support;
using OpenCvSharp;

namespace FaceCluster.Tests.FaceSet;

/// <summary>The texture prior's descriptor (light-normalised uniform LBP histograms) and its outlier scores, on the committed real faces.</summary>
[Trait("Tier", "unit")]
public class TextureDescriptorTests
{
    [Fact]
    public void Every_cell_s_histogram_sums_to_one_and_a_flat_image_has_one_pattern()
    {
        var flat = TextureDescriptor.Histograms(Enumerable.Repeat(0.5f, TextureDescriptor.Side * TextureDescriptor.Side).ToArray());
        Assert.Equal(TextureDescriptor.Length, flat.Length);
        for (int cell = 0; cell < TextureDescriptor.Grid * TextureDescriptor.Grid; cell++)
        {
            var h = flat.AsSpan(cell * TextureDescriptor.Bins, TextureDescriptor.Bins);
            Assert.Equal(1.0, h.ToArray().Sum(), 5);
            Assert.Equal(1f, h.ToArray().Max()); // every neighbour equals the centre: one code everywhere
        }
        var rng = new Random(3);
        var noise = TextureDescriptor.Histograms(Enumerable.Range(0, TextureDescriptor.Side * TextureDescriptor.Side).Select(_ => (float)rng.NextDouble()).ToArray());
        Assert.True(noise.Count(v => v > 0) > 36 * 20, "noise shows many patterns in every cell");
        Assert.Equal(0, TextureDescriptor.ChiSquare(noise, noise));
        Assert.True(TextureDescriptor.ChiSquare(noise, flat) > 0.5);
    }

    [Fact]
    public void Strong_side_light_moves_a_real_face_less_than_another_person_does_once_normalised()
    {
        var people = Directory.GetDirectories(RealFaceSets.LfwCrop).Order(StringComparer.Ordinal).Take(8).ToList();
        int closer = 0, rawCloser = 0;
        for (int p = 0; p < people.Count; p++)
        {
            using var face = Cv2.ImRead(Directory.GetFiles(people[p]).Order(StringComparer.Ordinal).First(), ImreadModes.Grayscale);
            using var other = Cv2.ImRead(Directory.GetFiles(people[(p + 1) % people.Count]).Order(StringComparer.Ordinal).First(), ImreadModes.Grayscale);
            using var lit = SideLit(face);
            if (TextureDescriptor.ChiSquare(TextureDescriptor.Of(face), TextureDescriptor.Of(lit)) < TextureDescriptor.ChiSquare(TextureDescriptor.Of(face), TextureDescriptor.Of(other))) closer++;
            if (TextureDescriptor.ChiSquare(Raw(face), Raw(lit)) < TextureDescriptor.ChiSquare(Raw(face), Raw(other))) rawCloser++;
        }
        Assert.Equal(people.Count, closer);
        Assert.True(rawCloser < closer, $"without the light normalisation {rawCloser} of {people.Count} lit faces were still closer to their own face: the test shows nothing");
    }

    [Fact]
    public void On_the_CMU_faces_upside_down_faceless_and_blank_images_stand_out_and_almost_no_real_face_does()
    {
        var people = Directory.GetDirectories(RealFaceSets.Cmu).Order(StringComparer.Ordinal).ToList();
        var faces = new List<TextureOutliers.Face>();
        int id = 0;
        for (int p = 0; p < people.Count; p++)
            foreach (string file in Directory.GetFiles(people[p]).Order(StringComparer.Ordinal))
                faces.Add(new TextureOutliers.Face(id++, p, TextureDescriptor.Of(File.ReadAllBytes(file))!));
        int real = faces.Count;
        using (var upsideDown = Cv2.ImRead(Directory.GetFiles(people[0]).Order(StringComparer.Ordinal).First(), ImreadModes.Grayscale))
        {
            Cv2.Flip(upsideDown, upsideDown, FlipMode.X);
            faces.Add(new TextureOutliers.Face(id++, 0, TextureDescriptor.Of(upsideDown)));
        }
        using (var noise = new Mat(120, 128, MatType.CV_8UC1))
        {
            Cv2.Randu(noise, Scalar.All(0), Scalar.All(255));
            faces.Add(new TextureOutliers.Face(id++, 1, TextureDescriptor.Of(noise)));
        }
        using (var blank = new Mat(120, 128, MatType.CV_8UC1, Scalar.All(250)))
            faces.Add(new TextureOutliers.Face(id++, 2, TextureDescriptor.Of(blank)));

        var scores = TextureOutliers.Scores(faces);
        Assert.Equal(faces.Count, scores.Count);
        for (int planted = real; planted < faces.Count; planted++)
            Assert.True(scores[planted].Z >= 3.5, $"planted image {planted - real}: z {scores[planted].Z:0.00}");
        int goodOut = Enumerable.Range(0, real).Count(i => scores[i].Z >= 3.5);
        Assert.True(goodOut <= real / 100, $"{goodOut} of {real} real CMU faces at z >= 3.5");
    }

    [Fact]
    public void A_face_alone_in_its_identity_is_not_scored_and_nor_is_a_set_without_spread()
    {
        var d = TextureDescriptor.Histograms(Enumerable.Repeat(0.5f, TextureDescriptor.Side * TextureDescriptor.Side).ToArray());
        Assert.Empty(TextureOutliers.Scores([new(1, 0, d)]));
        Assert.Empty(TextureOutliers.Scores([new(1, 0, d), new(2, 0, d), new(3, 1, d), new(4, 1, d)]));
        Assert.Empty(TextureOutliers.Scores([]));
    }

    [Fact]
    public void An_undecodable_image_has_no_descriptor() => Assert.Null(TextureDescriptor.Of(new byte[] { 1, 2, 3, 4 }));

    /// <summary>The face lit hard from the left: over-exposed (×1.8, clipped) on that side, falling to a twentieth on the other.</summary>
    private static Mat SideLit(Mat face)
    {
        var lit = face.Clone();
        int rows = lit.Rows, cols = lit.Cols;
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
                lit.Set(y, x, (byte)Math.Clamp(Math.Round(lit.At<byte>(y, x) * 1.8 * (1 - 0.95 * x / (cols - 1.0))), 0, 255));
        return lit;
    }

    /// <summary>The histograms without the light normalisation.</summary>
    private static float[] Raw(Mat grey)
    {
        using var small = new Mat();
        Cv2.Resize(grey, small, new Size(TextureDescriptor.Side, TextureDescriptor.Side), 0, 0, InterpolationFlags.Area);
        var pixels = new float[TextureDescriptor.Side * TextureDescriptor.Side];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = small.At<byte>(i / TextureDescriptor.Side, i % TextureDescriptor.Side);
        return TextureDescriptor.Histograms(pixels);
    }
}

/// <summary>The run's texture check: every training image scored once at start; an image gone or corrupt since the scan is left unscored, not fatal.</summary>
[Trait("Tier", "unit")]
public class RunTextureCheckTests
{
    [Fact]
    public void A_run_scores_its_training_images_and_skips_one_that_went_bad_after_the_scan()
    {
        using var folder = new FaceCluster.Common.IO.ScratchFolder("fc-texturecheck");
        string faces = folder.Combine("faces");
        foreach (string dir in Directory.GetDirectories(RealFaceSets.LfwCrop))
        {
            string to = Path.Combine(faces, Path.GetFileName(dir));
            Directory.CreateDirectory(to);
            foreach (string file in Directory.GetFiles(dir)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        var manifest = FaceCluster.Common.FaceSet.ManifestStore.LoadOrBuild(faces, folder.Combine("run"), new FaceCluster.Common.FaceSet.ScanOptions()).Manifest;
        var training = manifest.TrainingSamples.ToList();
        File.WriteAllBytes(Path.Combine(faces, training[0].RelativePath), [0x50, 0x36, 0x0a, 0xff]); // corrupt now
        File.Delete(Path.Combine(faces, training[1].RelativePath));                                     // gone now

        var log = new ListLogger();
        var scores = FaceCluster.Coordinator.Runs.RunTextureCheck.Scores(manifest, enabled: true, minReference: 4, log);
        Assert.NotNull(scores);
        Assert.Equal(training.Count - 2, scores!.Count);
        Assert.DoesNotContain(training[0].Id, scores.Keys);
        Assert.DoesNotContain(training[1].Id, scores.Keys);
        Assert.True(log.Contains($"{training.Count - 2} of {training.Count} training images scored"), log.Text);
        int outliers = scores.Values.Count(s => s.Z >= FaceCluster.Coordinator.Ledger.Curation.CurationPolicyOptions.Default.TextureZ);
        Assert.True(outliers <= scores.Count / 100, $"{outliers} of {scores.Count} real LFWcrop faces are texture outliers at the default z");
        Assert.Null(FaceCluster.Coordinator.Runs.RunTextureCheck.Scores(manifest, enabled: false, minReference: 4, log));
    }
}
