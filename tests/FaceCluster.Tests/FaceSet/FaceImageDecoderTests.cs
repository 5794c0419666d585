using FaceCluster.Tests.Support;
using FaceCluster.Common.FaceSet;
using OpenCvSharp;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class FaceImageDecoderTests
{
    private static Vec3b Pixel(Mat m, int y, int x) => m.At<Vec3b>(y, x);

    private static void AssertBgr8(Mat m, int size)
    {
        Assert.Equal(MatType.CV_8UC3, m.Type());
        Assert.Equal((size, size), (m.Width, m.Height));
    }

    [Fact]
    public void Grayscale_becomes_three_equal_channels()
    {
        using var gray = new Mat(40, 40, MatType.CV_8UC1, new Scalar(77));
        using var m = FaceImageDecoder.Decode(TestImages.Encode(gray, ".png"), 32);
        AssertBgr8(m, 32);
        Assert.Equal(new Vec3b(77, 77, 77), Pixel(m, 5, 9));
    }

    [Fact]
    public void Alpha_is_composited_onto_black()
    {
        using var bgra = new Mat(32, 32, MatType.CV_8UC4, new Scalar(200, 100, 50, 255));
        bgra[new Rect(0, 0, 16, 32)].SetTo(new Scalar(200, 100, 50, 0));
        bgra[new Rect(16, 0, 8, 32)].SetTo(new Scalar(200, 100, 50, 128));
        using var m = FaceImageDecoder.Decode(TestImages.Encode(bgra, ".png"), 32);
        AssertBgr8(m, 32);
        Assert.Equal(new Vec3b(0, 0, 0), Pixel(m, 10, 4));
        Assert.Equal(new Vec3b(200, 100, 50), Pixel(m, 10, 28));
        var half = Pixel(m, 10, 20);
        Assert.InRange(half.Item0, 99, 101);
        Assert.InRange(half.Item1, 49, 51);
        Assert.InRange(half.Item2, 24, 26);
    }

    [Fact]
    public void Sixteen_bit_samples_are_scaled_to_eight_bits()
    {
        using var deep = new Mat(32, 32, MatType.CV_16UC3, new Scalar(65535, 257 * 100, 0));
        using var m = FaceImageDecoder.Decode(TestImages.Encode(deep, ".png"), 32);
        AssertBgr8(m, 32);
        Assert.Equal(new Vec3b(255, 100, 0), Pixel(m, 16, 16));
        using var deepGray = new Mat(32, 32, MatType.CV_16UC1, new Scalar(257 * 40));
        using var g = FaceImageDecoder.Decode(TestImages.Encode(deepGray, ".pgm"), 16);
        AssertBgr8(g, 16);
        Assert.Equal(new Vec3b(40, 40, 40), Pixel(g, 3, 3));
    }

    [Theory]
    [InlineData(120, 60)]
    [InlineData(60, 120)]
    public void Non_square_images_are_centre_cropped(int width, int height)
    {
        // Red square in the middle, green margins on the long axis: after the crop only red is left.
        using var img = new Mat(height, width, MatType.CV_8UC3, new Scalar(0, 255, 0));
        int side = Math.Min(width, height);
        img[new Rect((width - side) / 2, (height - side) / 2, side, side)].SetTo(new Scalar(0, 0, 255));
        using var m = FaceImageDecoder.Decode(TestImages.Encode(img, ".png"), 24);
        AssertBgr8(m, 24);
        Cv2.InRange(m, new Scalar(0, 0, 250), new Scalar(5, 5, 255), m);
        Assert.Equal(24 * 24, Cv2.CountNonZero(m));
    }

    [Theory]
    [InlineData(20, 64)]
    [InlineData(200, 64)]
    [InlineData(64, 64)]
    public void Images_are_resized_to_the_input_size_up_or_down(int side, int size)
    {
        using var m = FaceImageDecoder.Decode(TestImages.FaceBytes(".jpg", 1, side, side), size);
        AssertBgr8(m, size);
    }

    [Fact]
    public void A_large_jpeg_decoded_at_reduced_scale_matches_a_full_decode()
    {
        using var big = TestImages.Face(512, 384, 8);
        var jpg = TestImages.Encode(big, ".jpg");
        using var reduced = FaceImageDecoder.Decode(jpg, 64);
        AssertBgr8(reduced, 64);
        using var full = Cv2.ImDecode(jpg, ImreadModes.Color);
        using var reference = FaceImageDecoder.CropResizeSquare(full, 64);
        using var diff = new Mat();
        Cv2.Absdiff(reduced, reference, diff);
        var mean = Cv2.Mean(diff);
        Assert.True(mean.Val0 + mean.Val1 + mean.Val2 < 3 * 6, $"reduced decode differs by {mean}");
    }

    [Fact]
    public void Shrinking_uses_area_interpolation()
    {
        // A 1-pixel checkerboard shrunk 4x: area averaging gives flat mid-grey; nearest/linear would alias.
        using var board = new Mat(64, 64, MatType.CV_8UC1);
        var bytes = new byte[64 * 64];
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) bytes[y * 64 + x] = (byte)((x + y) % 2 == 0 ? 255 : 0);
        board.SetArray(bytes);
        using var m = FaceImageDecoder.Decode(TestImages.Encode(board, ".png"), 16);
        Cv2.MinMaxLoc(m.Reshape(1), out double min, out double max);
        Assert.InRange(min, 126, 129);
        Assert.InRange(max, 126, 129);
    }

    [Fact]
    public void Bad_bytes_throw_with_the_reason_and_the_name()
    {
        var jpg = TestImages.FaceBytes(".jpg", 2);
        var cut = Assert.Throws<FaceImageException>(() => FaceImageDecoder.Decode(jpg[..^2], 32, "alice/x.jpg"));
        Assert.Equal(RejectReason.Truncated, cut.Reason);
        Assert.Contains("alice/x.jpg", cut.Message);
        Assert.Equal(RejectReason.NotAnImage, Assert.Throws<FaceImageException>(() => FaceImageDecoder.Decode("nope"u8.ToArray(), 32)).Reason);
        Assert.Equal(RejectReason.ZeroBytes, Assert.Throws<FaceImageException>(() => FaceImageDecoder.Decode([], 32)).Reason);
    }

    [Fact]
    public void Planes_are_bgr_in_zero_to_one()
    {
        using var img = new Mat(4, 4, MatType.CV_8UC3, new Scalar(255, 51, 0));
        img.Set(1, 2, new Vec3b(0, 102, 255));
        var dst = new float[2 + 3 * 16];
        ImagePlanes.CopyToPlanes(img, dst, 2);
        Assert.Equal(1f, dst[2 + 0]);                  // B plane, (0,0)
        Assert.Equal(0.2f, dst[2 + 16], 5);            // G plane, (0,0)
        Assert.Equal(0f, dst[2 + 32]);                 // R plane, (0,0)
        int p = 1 * 4 + 2;
        Assert.Equal(0f, dst[2 + p]);
        Assert.Equal(0.4f, dst[2 + 16 + p], 5);
        Assert.Equal(1f, dst[2 + 32 + p]);
        Assert.Equal((0f, 0f), (dst[0], dst[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImagePlanes.CopyToPlanes(img, dst, 3));
    }
}
