using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Common.Models;

/// <summary>
/// A model whose backward can run in two stages: its second stage (the autoencoder's decoders) first, then its first
/// stage (the encoder). <see cref="Training.ReplicaTrainer"/> cuts the graph where the first stage's output enters the
/// second: the second stage's gradients are complete, and can travel the ring, while the first stage's backward still runs.
/// </summary>
public interface ITwoStageModel
{
    /// <summary>The first stage: its parameters are a contiguous run of the model's, at the start or at the end.</summary>
    nn.Module FirstStage { get; }

    /// <summary>What the stages hold, for the step's timeline.</summary>
    string FirstStageName { get; }

    string SecondStageName { get; }

    /// <summary>
    /// <see cref="IFaceModel.PerSampleLoss"/> with the first stage's output passed through <paramref name="cut"/>
    /// before the second stage reads it (identity: the same losses, the same graph).
    /// </summary>
    Tensor PerSampleLoss(Tensor inputs, Tensor? targets, long[] labels, Func<Tensor, Tensor> cut);
}
