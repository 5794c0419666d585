namespace FaceCluster.Common.FaceSet;

/// <summary>
/// A batch in host memory, ready to copy to a device: <see cref="Count"/> images of
/// <see cref="ImageSize"/>×<see cref="ImageSize"/>, NCHW float32 in [0, 1], channel order BGR
/// (Inputs[((n*3 + c)*size + y)*size + x], c = 0 blue, 1 green, 2 red). <see cref="SampleIds"/>[n] is the
/// sample actually in slot n: when a slot's sample could not be loaded it holds another sample of the
/// same batch (see <see cref="BadSamples"/>). <see cref="Targets"/> is null for <see cref="BatchKind.Plain"/>.
/// </summary>
public sealed record HostBatch(int Count, int ImageSize, int[] SampleIds, float[] Inputs, float[]? Targets)
{
    /// <summary>The batch number k passed to the pipeline's callback.</summary>
    public long BatchIndex { get; init; }

    /// <summary>Slots whose requested sample failed to load and were filled with another sample.</summary>
    public IReadOnlyList<BadSample> BadSamples { get; init; } = [];

    /// <summary>Floats per image: 3 × size × size.</summary>
    public int ImageStride => 3 * ImageSize * ImageSize;
}
