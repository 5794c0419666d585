using FaceCluster.Common.IO;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Models.Autoencoder;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models.Previews;

/// <summary>One face shown in a preview: its pixels (planar BGR floats in [0, 1], 3×S×S) and its identity's index.</summary>
public sealed record PreviewFace(float[] Planes, int Identity);

/// <summary>
/// The preview faceswap users judge training by: one row per face with the original, its reconstruction through
/// its own identity's decoder, and a swap (the same code through the next identity's decoder). A PNG.
/// </summary>
public static class PreviewGrid
{
    public static byte[] RenderPng(FaceSwapAutoencoder model, IReadOnlyList<PreviewFace> faces, int scale = 2)
    {
        if (faces.Count == 0) throw new ArgumentException("a preview needs at least one face", nameof(faces));
        int size = model.Preset.ImageSize, stride = 3 * size * size, identities = model.Labels.Count;
        var planes = new float[faces.Count * stride];
        for (int i = 0; i < faces.Count; i++) faces[i].Planes.AsSpan(0, stride).CopyTo(planes.AsSpan(i * stride));
        float[] reconstructed, swapped;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var inputs = tensor(planes, [faces.Count, 3, size, size]);
            var own = faces.Select(f => (long)f.Identity).ToArray();
            reconstructed = model.Reconstruct(inputs, own).clamp(0, 1).contiguous().data<float>().ToArray();
            var swaps = torch.empty_like(inputs);
            for (int i = 0; i < faces.Count; i++)
            {
                int to = identities > 1 ? (faces[i].Identity + 1) % identities : faces[i].Identity;
                swaps[i] = model.Swap(inputs.narrow(0, i, 1), to)[0];
            }
            swapped = swaps.clamp(0, 1).contiguous().data<float>().ToArray();
        }
        finally
        {
            if (wasTraining) model.train();
        }

        int cell = size * scale;
        using var grid = new Mat(faces.Count * cell, 3 * cell, MatType.CV_8UC3, OpenCvSharp.Scalar.All(0));
        for (int i = 0; i < faces.Count; i++)
        {
            Place(grid, planes, i * stride, size, cell, i, 0);
            Place(grid, reconstructed, i * stride, size, cell, i, 1);
            Place(grid, swapped, i * stride, size, cell, i, 2);
        }
        return grid.ImEncode(".png");
    }

    private static void Place(Mat grid, float[] data, int offset, int size, int cell, int row, int column)
    {
        int plane = size * size;
        using var b = Mat.FromPixelData(size, size, MatType.CV_32FC1, data.AsMemory(offset, plane).ToArray());
        using var g = Mat.FromPixelData(size, size, MatType.CV_32FC1, data.AsMemory(offset + plane, plane).ToArray());
        using var r = Mat.FromPixelData(size, size, MatType.CV_32FC1, data.AsMemory(offset + 2 * plane, plane).ToArray());
        using var merged = new Mat();
        Cv2.Merge([b, g, r], merged);
        using var bytes = new Mat();
        merged.ConvertTo(bytes, MatType.CV_8UC3, 255.0);
        using var resized = new Mat();
        Cv2.Resize(bytes, resized, new OpenCvSharp.Size(cell, cell), 0, 0, InterpolationFlags.Nearest);
        using var target = new Mat(grid, new Rect(column * cell, row * cell, cell, cell));
        resized.CopyTo(target);
    }

    /// <summary>Decodes a face file into the planes a preview needs; null when it cannot be read.</summary>
    public static float[]? LoadPlanes(string path, int size)
    {
        try
        {
            using var mat = FaceImageDecoder.Decode(RegularFiles.ReadImage(path), size, path);
            var planes = new float[3 * size * size];
            ImagePlanes.CopyToPlanes(mat, planes, 0);
            return planes;
        }
        catch (Exception e) when (e is FaceImageException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
