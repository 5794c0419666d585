using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Randomness;

namespace FaceCluster.Tests.Support;

/// <summary>Deterministic random batches for model tests.</summary>
internal static class ModelTestData
{
    public static TrainBatch RandomBatch(int count, int size, int labels, ulong seed, bool withTargets = true)
    {
        var rng = new DeterministicRng(seed);
        int per = 3 * size * size;
        var inputs = new float[count * per];
        var targets = withTargets ? new float[count * per] : null;
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)rng.NextDouble();
        if (targets != null) for (int i = 0; i < targets.Length; i++) targets[i] = (float)rng.NextDouble();
        var ids = Enumerable.Range(1000, count).ToArray();
        var lab = Enumerable.Range(0, count).Select(i => (long)(i % labels)).ToArray();
        return new TrainBatch(count, size, ids, lab, inputs, targets);
    }

    public static TrainBatch Slice(TrainBatch b, int start, int count)
    {
        int per = b.FloatsPerImage;
        return new TrainBatch(count, b.ImageSize, b.SampleIds[start..(start + count)], b.Labels[start..(start + count)],
            b.Inputs.AsSpan(start * per, count * per).ToArray(), b.Targets?.AsSpan(start * per, count * per).ToArray());
    }
}
