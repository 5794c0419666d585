using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using OpenCvSharp;

namespace FaceCluster.Tests.Support;

/// <summary>Synthetic test images: simple drawn "faces" encoded by OpenCV, and crafted files OpenCV cannot write.</summary>
internal static class TestImages
{
    /// <summary>A BGR image with a background, a face ellipse, two eyes and a mouth, varied by seed.</summary>
    public static Mat Face(int width, int height, int seed)
    {
        var rng = new Random(seed);
        Scalar Colour() => new(rng.Next(256), rng.Next(256), rng.Next(256));
        var m = new Mat(height, width, MatType.CV_8UC3, Colour());
        var centre = new Point(width / 2 + rng.Next(-3, 4), height / 2 + rng.Next(-3, 4));
        Cv2.Ellipse(m, centre, new Size(width * 3 / 8, height * 4 / 9), rng.Next(-10, 11), 0, 360, Colour(), -1);
        var eye = Colour();
        Cv2.Circle(m, new Point(centre.X - width / 7, centre.Y - height / 9), Math.Max(1, width / 14), eye, -1);
        Cv2.Circle(m, new Point(centre.X + width / 7, centre.Y - height / 9), Math.Max(1, width / 14), eye, -1);
        Cv2.Ellipse(m, new Point(centre.X, centre.Y + height / 5), new Size(width / 6, height / 16), 0, 0, 180, Colour(), 2);
        return m;
    }

    /// <summary>Encodes with the format of the extension (any case).</summary>
    public static byte[] Encode(Mat image, string extension)
    {
        string ext = extension.ToLowerInvariant();
        if (ext == ".pgm" && image.Channels() == 3)
        {
            using var gray = new Mat();
            Cv2.CvtColor(image, gray, ColorConversionCodes.BGR2GRAY);
            return Encode(gray, ext);
        }
        Cv2.ImEncode(ext, image, out var bytes);
        if (bytes.Length == 0) throw new InvalidOperationException($"OpenCV wrote nothing for {ext} ({image.Type()})");
        return bytes;
    }

    public static byte[] FaceBytes(string extension, int seed, int width = 48, int height = 48)
    {
        using var m = Face(width, height, seed);
        return Encode(m, extension);
    }

    /// <summary>A PNG with one IDAT holding unfiltered rows of the given raw sample bytes.</summary>
    public static byte[] CraftPng(int width, int height, int bitDepth, int colorType, byte[] rows)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zlib = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zlib.Write(rows);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    /// <summary>
    /// A valid RGB PNG of <paramref name="side"/> × <paramref name="side"/> black pixels: a few MB on disk that decode
    /// to side² × 3 bytes (32767 → 3.2 GB), a decompression bomb.
    /// </summary>
    public static byte[] BombPng(int side)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, side);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), side);
        ihdr[8] = 8;
        ihdr[9] = 2;
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            var row = new byte[1 + side * 3L];
            using (var zlib = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true))
                for (int y = 0; y < side; y++) zlib.Write(row);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    /// <summary>Gray + alpha (2 channels), 8-bit.</summary>
    public static byte[] GrayAlphaPng(int width, int height)
    {
        int stride = 1 + width * 2;
        var rows = new byte[stride * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                rows[y * stride + 1 + x * 2] = (byte)(x * 5);
                rows[y * stride + 2 + x * 2] = 255;
            }
        return CraftPng(width, height, 8, 4, rows);
    }

    /// <summary>1-bit grayscale.</summary>
    public static byte[] OneBitPng(int width, int height)
    {
        int stride = 1 + (width + 7) / 8;
        var rows = new byte[stride * height];
        for (int y = 0; y < height; y++)
            for (int b = 1; b < stride; b++) rows[y * stride + b] = 0b10101010;
        return CraftPng(width, height, 1, 0, rows);
    }

    /// <summary>A binary PBM bitmap (1 bit per pixel).</summary>
    public static byte[] Pbm(int width, int height)
    {
        var header = Encoding.ASCII.GetBytes($"P4\n{width} {height}\n");
        var data = new byte[(width + 7) / 8 * height];
        Array.Fill(data, (byte)0x55);
        return [.. header, .. data];
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32([.. typeBytes, .. data]));
        s.Write(len);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
