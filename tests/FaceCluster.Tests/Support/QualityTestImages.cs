using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Randomness;
using OpenCvSharp;

namespace FaceCluster.Tests.Support;

/// <summary>A trivially separable good/bad toy set: "good" images are bright noise, "bad" ones dark noise.</summary>
internal static class QualityTestImages
{
    public static Mat Image(bool bad, int seed, int size = 32)
    {
        var rng = new DeterministicRng((ulong)seed * 7919 + (bad ? 1UL : 2UL));
        var bytes = new byte[size * size * 3];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(bad ? 10 + rng.NextInt(50) : 170 + rng.NextInt(80));
        var mat = new Mat(size, size, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, mat.Data, bytes.Length);
        return mat;
    }

    public static string Write(string folder, string name, bool bad, int seed)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        using var image = Image(bad, seed);
        Cv2.ImWrite(path, image);
        return path;
    }

    public static LoadedImages InMemory(int perClass, out bool[] bad)
    {
        const int size = 32;
        int per = 3 * size * size;
        var pixels = new float[2 * perClass * per];
        bad = new bool[2 * perClass];
        var paths = new string[2 * perClass];
        for (int i = 0; i < 2 * perClass; i++)
        {
            bad[i] = i % 2 == 1;
            using var image = Image(bad[i], i);
            ImagePlanes.CopyToPlanes(image, pixels, i * per);
            paths[i] = $"toy-{i}.png";
        }
        return new LoadedImages(size, paths, pixels, []);
    }
}
