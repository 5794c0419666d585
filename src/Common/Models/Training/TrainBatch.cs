namespace FaceCluster.Common.Models.Training;

/// <summary>
/// One local batch on the host, ready to become tensors: images as NCHW floats in [0,1], the sample ids the
/// losses are reported under, and each sample's label index (identity, or class).
/// </summary>
public sealed record TrainBatch(int Count, int ImageSize, int[] SampleIds, long[] Labels, float[] Inputs, float[]? Targets)
{
    public int FloatsPerImage => 3 * ImageSize * ImageSize;

    public void Validate()
    {
        if (Count <= 0) throw new ArgumentException("a batch needs at least one sample");
        if (SampleIds.Length != Count || Labels.Length != Count) throw new ArgumentException("ids and labels must have one entry per sample");
        if (Inputs.Length < Count * FloatsPerImage) throw new ArgumentException("inputs are shorter than Count images");
        if (Targets is not null && Targets.Length < Count * FloatsPerImage) throw new ArgumentException("targets are shorter than Count images");
    }
}
