using System.Buffers.Binary;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// What an image file's own structure says, read without decoding: the format (by signature), whether
/// the data is cut short, and the stored sample depth and channel count where the header states them.
/// Decoders are lenient with damaged files (OpenCV may "succeed" on a truncated JPEG), so truncation is
/// checked here from the container structure.
/// </summary>
internal readonly record struct ImageStructure(
    FaceImageFormat Format,
    RejectReason? Problem,
    string Detail,
    int DeclaredBitDepth,
    int DeclaredChannels,
    int DeclaredWidth = 0,
    int DeclaredHeight = 0)
{
    private static ImageStructure Ok(FaceImageFormat format, int depth = 0, int channels = 0, int width = 0, int height = 0)
        => new(format, null, "", depth, channels, width, height);
    private static ImageStructure Bad(FaceImageFormat format, RejectReason reason, string detail) => new(format, reason, detail, 0, 0);

    public static FaceImageFormat DetectFormat(ReadOnlySpan<byte> d)
    {
        if (d.Length >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return FaceImageFormat.Jpeg;
        if (d.Length >= 8 && d[..8].SequenceEqual(PngSignature)) return FaceImageFormat.Png;
        if (d.Length >= 2 && d[0] == (byte)'B' && d[1] == (byte)'M') return FaceImageFormat.Bmp;
        if (d.Length >= 2 && d[0] == (byte)'P' && d[1] >= (byte)'1' && d[1] <= (byte)'6') return FaceImageFormat.Pgm;
        if (d.Length >= 12 && d[..4].SequenceEqual("RIFF"u8) && d[8..12].SequenceEqual("WEBP"u8)) return FaceImageFormat.WebP;
        return FaceImageFormat.Unknown;
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static ImageStructure Inspect(ReadOnlySpan<byte> data)
    {
        var format = DetectFormat(data);
        return format switch
        {
            FaceImageFormat.Jpeg => InspectJpeg(data),
            FaceImageFormat.Png => InspectPng(data),
            FaceImageFormat.Bmp => InspectBmp(data),
            FaceImageFormat.Pgm => InspectPnm(data),
            FaceImageFormat.WebP => InspectWebP(data),
            _ => Bad(FaceImageFormat.Unknown, RejectReason.NotAnImage, $"no known image signature (starts with {Convert.ToHexString(data[..Math.Min(4, data.Length)])})"),
        };
    }

    /// <summary>Walks the JPEG marker segments and the entropy-coded data up to the EOI marker (FFD9).
    /// Anything after EOI (zero padding, appended trailers) is allowed.</summary>
    private static ImageStructure InspectJpeg(ReadOnlySpan<byte> d)
    {
        const FaceImageFormat F = FaceImageFormat.Jpeg;
        int n = d.Length, i = 2, bitDepth = 0, channels = 0, width = 0, height = 0;
        while (true)
        {
            // Find the next marker: 0xFF (possibly several fill bytes) followed by a non-zero code.
            int ff = d[i..].IndexOf((byte)0xFF);
            if (ff < 0) return Bad(F, RejectReason.Truncated, $"JPEG data ends at byte {n} without the EOI marker (FFD9)");
            i += ff;
            while (i < n && d[i] == 0xFF) i++;
            if (i >= n) return Bad(F, RejectReason.Truncated, $"JPEG data ends at byte {n} without the EOI marker (FFD9)");
            byte marker = d[i++];
            if (marker == 0x00) continue; // stray stuffed byte outside entropy data: keep looking
            if (marker == 0xD9) return Ok(F, bitDepth, channels, width, height);
            if (marker is (>= 0xD0 and <= 0xD8) or 0x01) continue; // standalone markers
            if (i + 2 > n) return Bad(F, RejectReason.Truncated, $"JPEG segment FF{marker:X2} cut short at byte {n}");
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[i..]);
            if (length < 2) return Bad(F, RejectReason.NotAnImage, $"JPEG segment FF{marker:X2} at byte {i - 2} has an invalid length {length}");
            if (i + length > n) return Bad(F, RejectReason.Truncated, $"JPEG segment FF{marker:X2} at byte {i - 2} needs {length} bytes, the file ends at byte {n}");
            bool isFrame = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            if (isFrame && length >= 8)
            {
                bitDepth = d[i + 2];
                height = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 3)..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 5)..]);
                channels = d[i + 7];
            }
            i += length;
            if (marker != 0xDA) continue;
            // Entropy-coded data after SOS: FF00 is a stuffed byte and FFD0-FFD7 are restart markers;
            // any other FFxx is the next marker.
            while (true)
            {
                int next = d[i..].IndexOf((byte)0xFF);
                if (next < 0 || i + next + 1 >= n)
                    return Bad(F, RejectReason.Truncated, $"JPEG data ends at byte {n} without the EOI marker (FFD9)");
                i += next;
                byte code = d[i + 1];
                if (code == 0x00 || code is >= 0xD0 and <= 0xD7) { i += 2; continue; }
                if (code == 0xFF) { i += 1; continue; }
                break;
            }
        }
    }

    /// <summary>Walks the PNG chunks up to IEND; reads the bit depth and colour type from IHDR.</summary>
    private static ImageStructure InspectPng(ReadOnlySpan<byte> d)
    {
        const FaceImageFormat F = FaceImageFormat.Png;
        long n = d.Length, pos = 8;
        int bitDepth = 0, channels = 0, width = 0, height = 0;
        bool first = true;
        while (true)
        {
            if (pos + 8 > n) return Bad(F, RejectReason.Truncated, $"PNG data ends at byte {n} without the IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d[(int)pos..]);
            var type = d.Slice((int)pos + 4, 4);
            if (length > int.MaxValue) return Bad(F, RejectReason.NotAnImage, $"PNG chunk at byte {pos} has an invalid length {length}");
            if (pos + 12 + length > n)
                return Bad(F, RejectReason.Truncated, $"PNG chunk '{System.Text.Encoding.ASCII.GetString(type)}' at byte {pos} needs {length + 12} bytes, the file ends at byte {n}");
            if (first)
            {
                if (!type.SequenceEqual("IHDR"u8) || length < 13) return Bad(F, RejectReason.NotAnImage, "PNG signature without an IHDR chunk");
                var ihdr = d.Slice((int)pos + 8, 13);
                width = ClampToInt(BinaryPrimitives.ReadUInt32BigEndian(ihdr));
                height = ClampToInt(BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]));
                bitDepth = ihdr[8];
                int colorType = ihdr[9];
                (channels, bitDepth) = colorType switch
                {
                    0 => (1, bitDepth),
                    2 => (3, bitDepth),
                    3 => (3, 8), // palette entries are 8-bit colours, whatever the index width
                    4 => (2, bitDepth),
                    6 => (4, bitDepth),
                    _ => (0, bitDepth),
                };
                first = false;
            }
            if (type.SequenceEqual("IEND"u8)) return Ok(F, bitDepth, channels, width, height);
            pos += 12 + length;
        }
    }

    /// <summary>Uncompressed BMP: the file must hold the pixel rows the header declares; compressed BMP: the
    /// file size the header declares.</summary>
    private static ImageStructure InspectBmp(ReadOnlySpan<byte> d)
    {
        const FaceImageFormat F = FaceImageFormat.Bmp;
        long n = d.Length;
        if (n < 26) return Bad(F, RejectReason.Truncated, $"BMP header needs at least 26 bytes, the file has {n}");
        uint fileSize = BinaryPrimitives.ReadUInt32LittleEndian(d[2..]);
        uint pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(d[10..]);
        uint dibSize = BinaryPrimitives.ReadUInt32LittleEndian(d[14..]);
        long width, height;
        int bitCount;
        uint compression = 0, imageSize = 0;
        if (dibSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(d[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(d[20..]);
            bitCount = BinaryPrimitives.ReadUInt16LittleEndian(d[24..]);
        }
        else
        {
            if (n < 38) return Bad(F, RejectReason.Truncated, $"BMP header needs at least 38 bytes, the file has {n}");
            width = BinaryPrimitives.ReadInt32LittleEndian(d[18..]);
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(d[22..]));
            bitCount = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]);
            compression = BinaryPrimitives.ReadUInt32LittleEndian(d[30..]);
            imageSize = BinaryPrimitives.ReadUInt32LittleEndian(d[34..]);
        }
        if (width <= 0 || height <= 0 || bitCount is not (1 or 4 or 8 or 16 or 24 or 32))
            return Bad(F, RejectReason.NotAnImage, $"BMP header is invalid (width {width}, height {height}, {bitCount} bits per pixel)");
        long required;
        bool uncompressed = compression is 0 or 3 or 6; // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS
        if (uncompressed)
            required = pixelOffset + ((width * bitCount + 31) / 32 * 4) * height;
        else
            required = fileSize > 0 ? fileSize : pixelOffset + imageSize;
        if (n < required)
            return Bad(F, RejectReason.Truncated, $"BMP file has {n} bytes, its header declares {required}");
        int channels = bitCount == 32 ? 4 : 3;
        return Ok(F, 8, channels, ClampToInt(width), ClampToInt(height));
    }

    /// <summary>Netpbm (P1-P6): reads the header; binary data must hold width*height*samples*bytes bytes,
    /// ASCII data that many numbers. P1/P4 are 1-bit bitmaps.</summary>
    private static ImageStructure InspectPnm(ReadOnlySpan<byte> d)
    {
        const FaceImageFormat F = FaceImageFormat.Pgm;
        char kind = (char)d[1];
        int pos = 2;
        int fields = kind is '1' or '4' ? 2 : 3;
        Span<long> values = stackalloc long[3];
        for (int f = 0; f < fields; f++)
        {
            if (!NextPnmNumber(d, ref pos, out values[f]))
                return pos >= d.Length
                    ? Bad(F, RejectReason.Truncated, $"P{kind} header ends at byte {d.Length}")
                    : Bad(F, RejectReason.NotAnImage, $"P{kind} header is invalid at byte {pos}");
        }
        long width = values[0], height = values[1], maxValue = fields == 3 ? values[2] : 1;
        if (width <= 0 || height <= 0 || maxValue <= 0 || maxValue > 65535)
            return Bad(F, RejectReason.NotAnImage, $"P{kind} header is invalid (width {width}, height {height}, maximum value {maxValue})");
        int samples = kind is '3' or '6' ? 3 : 1;
        int bitDepth = kind is '1' or '4' ? 1 : maxValue < 256 ? 8 : 16;
        if (kind is '4' or '5' or '6')
        {
            pos++; // exactly one whitespace byte after the header
            long required = kind == '4' ? (width + 7) / 8 * height : width * height * samples * (bitDepth == 16 ? 2 : 1);
            long available = Math.Max(0, d.Length - pos);
            if (available < required)
                return Bad(F, RejectReason.Truncated, $"P{kind} pixel data has {available} bytes, width*height needs {required}");
        }
        else
        {
            long required = width * height * samples, count = 0;
            while (count < required && NextPnmNumber(d, ref pos, out _)) count++;
            if (count < required)
                return Bad(F, RejectReason.Truncated, $"P{kind} pixel data has {count} values, width*height needs {required}");
        }
        return Ok(F, bitDepth, samples, ClampToInt(width), ClampToInt(height));
    }

    private static bool NextPnmNumber(ReadOnlySpan<byte> d, ref int pos, out long value)
    {
        value = 0;
        while (pos < d.Length)
        {
            byte c = d[pos];
            if (c == (byte)'#')
            {
                int eol = d[pos..].IndexOfAny((byte)'\n', (byte)'\r');
                pos = eol < 0 ? d.Length : pos + eol;
            }
            else if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f') pos++;
            else break;
        }
        int start = pos;
        while (pos < d.Length && d[pos] >= (byte)'0' && d[pos] <= (byte)'9' && pos - start < 12)
            value = value * 10 + (d[pos++] - (byte)'0');
        return pos > start;
    }

    /// <summary>WebP: the RIFF chunk size must fit in the file; the size comes from the first chunk (VP8, VP8L or VP8X).</summary>
    private static ImageStructure InspectWebP(ReadOnlySpan<byte> d)
    {
        long declared = (long)BinaryPrimitives.ReadUInt32LittleEndian(d[4..]) + 8;
        if (declared > d.Length)
            return Bad(FaceImageFormat.WebP, RejectReason.Truncated, $"WebP file has {d.Length} bytes, its RIFF header declares {declared}");
        int width = 0, height = 0;
        if (d.Length >= 30 && d[12..16].SequenceEqual("VP8 "u8))
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(d[26..]) & 0x3FFF;
            height = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]) & 0x3FFF;
        }
        else if (d.Length >= 25 && d[12..16].SequenceEqual("VP8L"u8))
        {
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(d[21..]);
            width = (int)(bits & 0x3FFF) + 1;
            height = (int)((bits >> 14) & 0x3FFF) + 1;
        }
        else if (d.Length >= 30 && d[12..16].SequenceEqual("VP8X"u8))
        {
            width = (d[24] | d[25] << 8 | d[26] << 16) + 1;
            height = (d[27] | d[28] << 8 | d[29] << 16) + 1;
        }
        return Ok(FaceImageFormat.WebP, 0, 0, width, height);
    }

    private static int ClampToInt(long value) => (int)Math.Clamp(value, 0, int.MaxValue);

    /// <summary>Width × height as the header declares it (0 when it does not say).</summary>
    public long DeclaredPixels => (long)DeclaredWidth * DeclaredHeight;
}
