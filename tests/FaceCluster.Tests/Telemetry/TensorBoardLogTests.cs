using FaceCluster.Common.IO;
using FaceCluster.Common.Telemetry.TensorBoard;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.Telemetry;

/// <summary>The TensorBoard event file, read back by an independent reader (framing, both CRCs, the protocol buffers).</summary>
[Trait("Tier", "unit")]
public sealed class TensorBoardLogTests
{
    [Fact]
    public void Scalars_and_a_png_read_back_with_their_tags_steps_and_bytes()
    {
        using var temp = new ScratchFolder("fc-tb");
        byte[] png = TestImages.FaceBytes(".png", 3);
        string path;
        using (var log = new TensorBoardLog(temp.Combine("tb")))
        {
            log.Scalar("train/loss", 1, 0.25);
            log.Scalar("train/loss", 2, 0.125);
            log.Scalar("curation/pruned", 300, 7);
            log.Image("preview", 2, png);
            path = log.Path;
        }
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(path));
        var events = TensorBoardReader.Read(path);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.All(events, e => Assert.InRange(e.WallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1));
        var scalars = events.Skip(1).SelectMany(e => e.Values.Where(v => v.Scalar != null).Select(v => (v.Tag, e.Step, v.Scalar!.Value))).ToList();
        Assert.Equal([("train/loss", 1L, 0.25f), ("train/loss", 2L, 0.125f), ("curation/pruned", 300L, 7f)], scalars);
        var image = events.Last().Values.Single();
        Assert.Equal("preview", image.Tag);
        Assert.Equal(png, image.Png);
        using var decoded = OpenCvSharp.Cv2.ImDecode(png, OpenCvSharp.ImreadModes.Color);
        Assert.Equal((decoded.Width, decoded.Height), (image.Width, image.Height));
    }

    [Fact]
    public void The_reader_catches_a_damaged_record()
    {
        using var temp = new ScratchFolder("fc-tb");
        string path;
        using (var log = new TensorBoardLog(temp.Combine("tb")))
        {
            log.Scalar("train/loss", 1, 0.5);
            path = log.Path;
        }
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x40; // inside the last event's data
        File.WriteAllBytes(path, bytes);
        Assert.Throws<InvalidDataException>(() => TensorBoardReader.Read(path));
    }
}
