using OpenCvSharp;

namespace FaceCluster.Common.FaceSet.Texture;

/// <summary>
/// A face's local texture with the light taken out, independent of the model being trained: the image in grey at
/// <see cref="Side"/>×<see cref="Side"/>, light-normalised as Tan and Triggs do (gamma 0.2, a difference of Gaussians of
/// σ 1 and 2, then a two-stage contrast equalisation with α 0.1 and τ 10), then the histograms of its uniform local binary
/// patterns (8 neighbours at radius 1: 58 uniform codes and one bin for the rest) over a <see cref="Grid"/>×<see cref="Grid"/>
/// grid of cells, each histogram summing to 1. These are the histograms of the LBPH face recogniser; the light
/// normalisation keeps strong side light from making a good face look unlike its identity's. A rotated, shifted,
/// occluded, blank or faceless image, or another person's face, has other patterns in other cells.
/// </summary>
public static class TextureDescriptor
{
    public const int Side = 64;
    public const int Grid = 6;
    public const int Bins = 59;

    /// <summary>Length of a descriptor: one histogram per cell.</summary>
    public const int Length = Grid * Grid * Bins;

    private static readonly byte[] UniformBin = BuildUniformBins();

    // Row (or column) r of the coded pixels, 0..Side−3, is in cell row CellOf[r]: cell g spans [g·(Side−2)/Grid, (g+1)·(Side−2)/Grid).
    private static readonly int[] CellOf = Enumerable.Range(0, Side - 2).Select(r => Enumerable.Range(0, Grid).Last(g => g * (Side - 2) / Grid <= r)).ToArray();

    /// <summary>The descriptor of an encoded image; null when OpenCV cannot decode it.</summary>
    public static float[]? Of(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var grey = Cv2.ImDecode(encoded, ImreadModes.Grayscale);
        return grey.Empty() ? null : Of(grey);
    }

    /// <summary>The descriptor of a greyscale 8-bit image of any size.</summary>
    public static float[] Of(Mat grey)
    {
        ArgumentNullException.ThrowIfNull(grey);
        if (grey.Empty() || grey.Type() != MatType.CV_8UC1) throw new ArgumentException("a non-empty 8-bit greyscale image is needed", nameof(grey));
        using var small = new Mat();
        var interpolation = grey.Cols > Side || grey.Rows > Side ? InterpolationFlags.Area : InterpolationFlags.Linear;
        Cv2.Resize(grey, small, new Size(Side, Side), 0, 0, interpolation);
        var pixels = new float[Side * Side];
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
                pixels[y * Side + x] = small.At<byte>(y, x);
        return Histograms(Normalise(pixels));
    }

    /// <summary>
    /// Tan and Triggs' light normalisation of a <see cref="Side"/>² image of values in [0, 255]: gamma, difference of
    /// Gaussians, contrast equalisation; values in (−τ, τ).
    /// </summary>
    public static float[] Normalise(float[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != Side * Side) throw new ArgumentException($"{Side}x{Side} values are needed, got {pixels.Length}", nameof(pixels));
        const double gamma = 0.2, alpha = 0.1, tau = 10;
        using var x = new Mat(Side, Side, MatType.CV_32FC1);
        for (int i = 0; i < pixels.Length; i++) x.Set(i / Side, i % Side, (float)Math.Pow(pixels[i] / 255.0 + 1e-3, gamma));
        using var narrow = new Mat();
        using var wide = new Mat();
        Cv2.GaussianBlur(x, narrow, new Size(0, 0), 1.0, 1.0, BorderTypes.Reflect101);
        Cv2.GaussianBlur(x, wide, new Size(0, 0), 2.0, 2.0, BorderTypes.Reflect101);
        var d = new double[pixels.Length];
        for (int i = 0; i < d.Length; i++) d[i] = narrow.At<float>(i / Side, i % Side) - wide.At<float>(i / Side, i % Side);
        double first = Math.Pow(d.Average(v => Math.Pow(Math.Abs(v), alpha)), 1 / alpha) + 1e-8;
        for (int i = 0; i < d.Length; i++) d[i] /= first;
        double second = Math.Pow(d.Average(v => Math.Pow(Math.Min(tau, Math.Abs(v)), alpha)), 1 / alpha) + 1e-8;
        var result = new float[d.Length];
        for (int i = 0; i < d.Length; i++) result[i] = (float)(tau * Math.Tanh(d[i] / second / tau));
        return result;
    }

    /// <summary>The uniform-LBP histograms of a <see cref="Side"/>² image, cell by cell (the border pixels have no code).</summary>
    public static float[] Histograms(float[] image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length != Side * Side) throw new ArgumentException($"{Side}x{Side} values are needed, got {image.Length}", nameof(image));
        var counts = new int[Length];
        var cellTotals = new int[Grid * Grid];
        ReadOnlySpan<(int Dy, int Dx)> neighbours = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)];
        for (int y = 1; y < Side - 1; y++)
        {
            int cy = CellOf[y - 1];
            for (int x = 1; x < Side - 1; x++)
            {
                float centre = image[y * Side + x];
                int code = 0;
                for (int b = 0; b < 8; b++)
                    if (image[(y + neighbours[b].Dy) * Side + x + neighbours[b].Dx] >= centre) code |= 1 << b;
                int cell = cy * Grid + CellOf[x - 1];
                counts[cell * Bins + UniformBin[code]]++;
                cellTotals[cell]++;
            }
        }
        var histograms = new float[Length];
        for (int i = 0; i < Length; i++) histograms[i] = counts[i] / (float)Math.Max(1, cellTotals[i / Bins]);
        return histograms;
    }

    /// <summary>½ Σ (a − b)² / (a + b): the χ² distance of two descriptors (0 for equal ones; 0/0 terms count 0).</summary>
    public static double ChiSquare(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"descriptors of {a.Length} and {b.Length} values cannot be compared");
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double s = a[i] + (double)b[i];
            if (s > 0) sum += (a[i] - (double)b[i]) * (a[i] - (double)b[i]) / s;
        }
        return 0.5 * sum;
    }

    /// <summary>Uniform codes (at most two 0/1 transitions around the circle) get bins 0..57 in code order; the rest bin 58.</summary>
    private static byte[] BuildUniformBins()
    {
        var bins = new byte[256];
        byte next = 0;
        for (int code = 0; code < 256; code++)
        {
            int transitions = 0;
            for (int b = 0; b < 8; b++)
                if (((code >> b) & 1) != ((code >> ((b + 1) % 8)) & 1)) transitions++;
            bins[code] = transitions <= 2 ? next++ : (byte)(Bins - 1);
        }
        return bins;
    }
}
