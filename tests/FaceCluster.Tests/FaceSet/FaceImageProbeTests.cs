using FaceCluster.Tests.Support;
using FaceCluster.Common.FaceSet;
using OpenCvSharp;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class FaceImageProbeTests
{
    [Theory]
    [InlineData(".jpg", FaceImageFormat.Jpeg)]
    [InlineData(".png", FaceImageFormat.Png)]
    [InlineData(".bmp", FaceImageFormat.Bmp)]
    [InlineData(".webp", FaceImageFormat.WebP)]
    public void Valid_colour_images_are_usable_with_their_size(string extension, FaceImageFormat format)
    {
        var result = FaceImageProbe.Probe(TestImages.FaceBytes(extension, 1, width: 40, height: 30), minSide: 16);
        Assert.True(result.IsUsable, result.Detail);
        Assert.Equal(format, result.Format);
        Assert.Equal((40, 30, 3, 8), (result.Width, result.Height, result.Channels, result.BitDepth));
    }

    [Fact]
    public void Gray_pgm_and_16_bit_png_are_usable()
    {
        using var gray = new Mat(20, 24, MatType.CV_8UC1, new Scalar(90));
        var pgm = FaceImageProbe.Probe(TestImages.Encode(gray, ".pgm"));
        Assert.True(pgm.IsUsable, pgm.Detail);
        Assert.Equal((FaceImageFormat.Pgm, 24, 20, 1, 8), (pgm.Format, pgm.Width, pgm.Height, pgm.Channels, pgm.BitDepth));

        using var deep = new Mat(20, 20, MatType.CV_16UC3, new Scalar(1000, 20000, 60000));
        var png16 = FaceImageProbe.Probe(TestImages.Encode(deep, ".png"));
        Assert.True(png16.IsUsable, png16.Detail);
        Assert.Equal(16, png16.BitDepth);
    }

    [Fact]
    public void Empty_data_is_zero_bytes_and_text_is_not_an_image()
    {
        Assert.Equal(RejectReason.ZeroBytes, FaceImageProbe.Probe([]).Reject);
        var text = FaceImageProbe.Probe("hello, this is not a picture"u8.ToArray());
        Assert.Equal(RejectReason.NotAnImage, text.Reject);
        Assert.Contains("signature", text.Detail);
    }

    [Fact]
    public void Truncated_jpeg_is_detected_even_when_only_the_end_marker_is_missing()
    {
        var jpg = TestImages.FaceBytes(".jpg", 2);
        Assert.Equal(RejectReason.Truncated, FaceImageProbe.Probe(jpg[..(jpg.Length / 2)]).Reject);
        var noEoi = FaceImageProbe.Probe(jpg[..^2]);
        Assert.Equal(RejectReason.Truncated, noEoi.Reject);
        Assert.Contains("EOI", noEoi.Detail);
        // Cut short, then zero-padded back to a plausible size: still truncated.
        Assert.Equal(RejectReason.Truncated, FaceImageProbe.Probe([.. jpg[..(jpg.Length / 2)], .. new byte[jpg.Length / 2]]).Reject);
    }

    [Fact]
    public void Jpeg_with_trailing_zero_padding_or_an_appended_trailer_is_usable()
    {
        var jpg = TestImages.FaceBytes(".jpg", 3);
        Assert.True(FaceImageProbe.Probe([.. jpg, .. new byte[100]]).IsUsable);
        Assert.True(FaceImageProbe.Probe([.. jpg, .. "TRAILER-DATA"u8.ToArray()]).IsUsable);
    }

    [Theory]
    [InlineData(".png", 12)]   // IEND gone
    [InlineData(".png", 200)]  // inside IDAT
    [InlineData(".bmp", 100)]
    [InlineData(".webp", 50)]
    public void Truncated_png_bmp_webp_are_detected(string extension, int cut)
    {
        var bytes = TestImages.FaceBytes(extension, 4);
        var result = FaceImageProbe.Probe(bytes[..^cut]);
        Assert.Equal(RejectReason.Truncated, result.Reject);
    }

    [Fact]
    public void Truncated_pgm_binary_and_ascii_are_detected()
    {
        using var gray = new Mat(20, 20, MatType.CV_8UC1, new Scalar(90));
        var pgm = TestImages.Encode(gray, ".pgm");
        var binary = FaceImageProbe.Probe(pgm[..^10]);
        Assert.Equal(RejectReason.Truncated, binary.Reject);
        Assert.Contains("needs 400", binary.Detail);
        var ascii = System.Text.Encoding.ASCII.GetBytes("P2\n# comment\n20 20\n255\n" + string.Join(' ', Enumerable.Repeat("7", 399)));
        Assert.Equal(RejectReason.Truncated, FaceImageProbe.Probe(ascii).Reject);
        var complete = System.Text.Encoding.ASCII.GetBytes("P2\n# comment\n20 20\n255\n" + string.Join(' ', Enumerable.Repeat("7", 400)) + "\n");
        Assert.True(FaceImageProbe.Probe(complete).IsUsable);
    }

    [Fact]
    public void Images_below_the_minimum_side_are_too_small()
    {
        var bytes = TestImages.FaceBytes(".png", 5, width: 40, height: 12);
        var result = FaceImageProbe.Probe(bytes, minSide: 16);
        Assert.Equal(RejectReason.TooSmall, result.Reject);
        Assert.Equal((40, 12), (result.Width, result.Height));
        Assert.True(FaceImageProbe.Probe(bytes, minSide: 12).IsUsable);
    }

    [Fact]
    public void Two_channel_png_one_bit_png_and_pbm_have_unsupported_depth()
    {
        Assert.Equal(RejectReason.UnsupportedDepth, FaceImageProbe.Probe(TestImages.GrayAlphaPng(32, 32)).Reject);
        Assert.Equal(RejectReason.UnsupportedDepth, FaceImageProbe.Probe(TestImages.OneBitPng(32, 32)).Reject);
        var pbm = FaceImageProbe.Probe(TestImages.Pbm(32, 32));
        Assert.Equal(RejectReason.UnsupportedDepth, pbm.Reject);
        Assert.Contains("1-bit", pbm.Detail);
    }

    [Fact]
    public void Known_header_with_garbage_data_is_not_an_image()
    {
        var rows = new byte[(1 + 32 * 3) * 32];
        var png = TestImages.CraftPng(32, 32, 8, 2, rows);
        Assert.True(FaceImageProbe.Probe(png).IsUsable);
        // Same structure, but the IDAT payload is not zlib data.
        int idat = IndexOf(png, "IDAT"u8.ToArray());
        for (int i = idat + 4; i < idat + 12; i++) png[i] = 0xEE;
        var result = FaceImageProbe.Probe(png);
        Assert.Equal(RejectReason.NotAnImage, result.Reject);
        Assert.Contains("decoder", result.Detail);
    }

    [Fact]
    public void A_missing_file_is_unreadable()
    {
        var result = FaceImageProbe.ProbeFile(Path.Combine(Path.GetTempPath(), $"fc-missing-{Guid.NewGuid():N}.png"));
        Assert.Equal(RejectReason.Unreadable, result.Reject);
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
