using FaceCluster.Tests.Support;
using FaceCluster.Common.FaceSet;
using OpenCvSharp;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class FaceAugmenterTests
{
    private static double MeanAbsDiff(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        var mean = Cv2.Mean(diff);
        return (mean.Val0 + mean.Val1 + mean.Val2) / 3;
    }

    private static bool Same(Mat a, Mat b) => MeanAbsDiff(a, b) == 0;

    [Fact]
    public void None_leaves_the_image_alone()
    {
        using var face = TestImages.Face(32, 32, 1);
        using var aug = new FaceAugmenter(32, AugmentOptions.None);
        using var target = new Mat();
        using var warped = new Mat();
        aug.Apply(face, 123, target, warped);
        Assert.True(Same(face, target));
        Assert.True(Same(face, warped));
    }

    [Fact]
    public void Same_seed_same_result_other_seed_other_result()
    {
        using var face = TestImages.Face(48, 48, 2);
        using var aug = new FaceAugmenter(48, AugmentOptions.Default);
        using Mat t1 = new(), w1 = new(), t2 = new(), w2 = new(), t3 = new(), w3 = new();
        aug.Apply(face, 42, t1, w1);
        aug.Apply(face, 42, t2, w2);
        aug.Apply(face, 43, t3, w3);
        Assert.True(Same(t1, t2));
        Assert.True(Same(w1, w2));
        Assert.False(Same(t1, t3));
        Assert.False(Same(t1, w1));
        Assert.Equal(FaceAugmenter.SeedFor(7, 3, 2), FaceAugmenter.SeedFor(7, 3, 2));
        Assert.NotEqual(FaceAugmenter.SeedFor(7, 3, 2), FaceAugmenter.SeedFor(7, 2, 3));
    }

    [Fact]
    public void Random_warp_alone_changes_only_the_input_and_only_a_little()
    {
        using var face = TestImages.Face(64, 64, 3);
        var warpOnly = AugmentOptions.None with { RandomWarp = true, WarpStrength = 0.03 };
        using var aug = new FaceAugmenter(64, warpOnly);
        using var target = new Mat();
        using var warped = new Mat();
        aug.Apply(face, 5, target, warped);
        Assert.True(Same(face, target));
        double d = MeanAbsDiff(face, warped);
        Assert.InRange(d, 0.1, 40);
    }

    [Fact]
    public void A_certain_flip_mirrors_the_image()
    {
        using var face = TestImages.Face(32, 32, 4);
        using var aug = new FaceAugmenter(32, AugmentOptions.None with { FlipProbability = 1 });
        using var target = new Mat();
        aug.Apply(face, 9, target);
        using var mirrored = new Mat();
        Cv2.Flip(face, mirrored, FlipMode.Y);
        Assert.True(Same(mirrored, target));
    }

    [Fact]
    public void Colour_jitter_keeps_geometry_and_changes_colour()
    {
        using var face = TestImages.Face(32, 32, 5);
        var colourOnly = AugmentOptions.None with { BrightnessRange = 0.2, ContrastRange = 0.2, HueShiftDegrees = 20, SaturationRange = 0.3 };
        using var aug = new FaceAugmenter(32, colourOnly);
        using var target = new Mat();
        aug.Apply(face, 11, target);
        Assert.False(Same(face, target));
        // Geometry unchanged: edges stay where they were.
        using Mat e1 = new(), e2 = new(), g1 = new(), g2 = new();
        Cv2.CvtColor(face, g1, ColorConversionCodes.BGR2GRAY);
        Cv2.CvtColor(target, g2, ColorConversionCodes.BGR2GRAY);
        Cv2.Canny(g1, e1, 30, 90);
        Cv2.Canny(g2, e2, 30, 90);
        Cv2.Dilate(e2, e2, null);
        using var missing = new Mat();
        Cv2.Subtract(e1, e2, missing);
        Assert.True(Cv2.CountNonZero(missing) <= Cv2.CountNonZero(e1) / 4, "edges moved under colour-only augmentation");
    }

    [Fact]
    public void Colour_matrix_keeps_grey_under_hue_rotation_and_desaturates_to_luma()
    {
        using var grey = new Mat(2, 2, MatType.CV_8UC3, new Scalar(90, 90, 90));
        using var rotated = new Mat();
        using (var hue = FaceAugmenter.ColourMatrix(37, 1, 1, 0)) Cv2.Transform(grey, rotated, hue);
        Assert.Equal(new Vec3b(90, 90, 90), rotated.At<Vec3b>(1, 1));

        using var colour = new Mat(2, 2, MatType.CV_8UC3, new Scalar(200, 100, 50)); // B, G, R
        using var flat = new Mat();
        using (var desaturate = FaceAugmenter.ColourMatrix(0, 0, 1, 0)) Cv2.Transform(colour, flat, desaturate);
        byte luma = (byte)Math.Round(0.114 * 200 + 0.587 * 100 + 0.299 * 50);
        Assert.Equal(new Vec3b(luma, luma, luma), flat.At<Vec3b>(0, 0));

        using var same = new Mat();
        using (var identity = FaceAugmenter.ColourMatrix(0, 1, 1, 0)) Cv2.Transform(colour, same, identity);
        Assert.Equal(new Vec3b(200, 100, 50), same.At<Vec3b>(0, 0));
        using var brighter = new Mat();
        using (var contrast = FaceAugmenter.ColourMatrix(0, 1, 2, 10.25)) Cv2.Transform(colour, brighter, contrast);
        Assert.Equal(new Vec3b(255, 83, 0), brighter.At<Vec3b>(0, 0)); // 2x - 127.5 + 10.25, saturated
    }

    [Fact]
    public void Wrong_input_size_is_refused()
    {
        using var face = TestImages.Face(40, 40, 6);
        using var aug = new FaceAugmenter(32, AugmentOptions.Default);
        Assert.Throws<ArgumentException>(() => aug.Apply(face, 1, new Mat()));
    }
}
