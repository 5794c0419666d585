namespace FaceCluster.GpuWorker.Training;

/// <summary>What a worker needs from the face set: the training samples, each sample's label, and batches.</summary>
public interface IFaceSetView
{
    /// <summary>Training samples (validation samples are never trained on).</summary>
    IReadOnlyList<int> TrainingIds { get; }

    /// <summary>The label index (identity) of a sample.</summary>
    long LabelOf(int sampleId);

    /// <summary>Prefetched batches for the given steps (ids per step), augmented deterministically from <paramref name="seed"/>.</summary>
    ISegmentBatches CreateBatches(int[][] idsPerStep, ulong seed);

    /// <summary>The images as they are (no augmentation; targets are the inputs), for an identity probe.</summary>
    ISegmentBatches CreateProbeBatches(int[][] idsPerBatch);
}
