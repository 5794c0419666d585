using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Training;
using TorchSharp;

namespace FaceCluster.Tests.Support;

/// <summary>
/// Tiny autoencoder replicas for the optimizer and step tests (their collection seeds libtorch's global generator),
/// and the sharded step over a ring with its reference: the ring's sum applied by one replica as a whole update.
/// </summary>
internal static class TrainerTestKit
{
    public static readonly string[] Identities = ["alice", "bob", "carol"];

    public static ReplicaTrainer NewTrainer(int seed = 7, UpdatePlacement placement = UpdatePlacement.Host, int updateThreads = 1)
    {
        torch.manual_seed(seed);
        return new ReplicaTrainer(new FaceSwapAutoencoder(ModelPreset.Tiny, Identities), torch.CPU,
            TrainerOptions.For(ModelPreset.Tiny) with { UpdateOn = placement, UpdateThreads = updateThreads });
    }

    /// <summary>
    /// A replica with <paramref name="source"/>'s weights and optimizer state: an explicit copy, because tests outside
    /// the collection may draw from libtorch's global generator between a manual_seed and a model's initialisation.
    /// </summary>
    public static ReplicaTrainer CopyOf(ReplicaTrainer source, UpdatePlacement placement = UpdatePlacement.Host, int updateThreads = 1)
    {
        var copy = NewTrainer(seed: 99, placement, updateThreads);
        copy.ImportState(source.ExportState());
        Assert.Equal(source.ParameterChecksum(), copy.ParameterChecksum());
        return copy;
    }

    /// <summary>Every parameter, in order, as one host array.</summary>
    public static float[] Weights(ReplicaTrainer trainer)
    {
        using var scope = torch.NewDisposeScope();
        return torch.cat(trainer.Model.Root.parameters().Select(p => p.detach().flatten()).ToArray()).data<float>().ToArray();
    }

    /// <summary>Within <paramref name="tolerance"/>, absolute plus as much relative.</summary>
    public static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (Math.Abs(expected[i] - actual[i]) > tolerance * (1 + Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    /// <summary>
    /// One step of every rank: gradients of its batch, then the sharded update inside the ring's all-reduce (as the
    /// worker does). Before it, the reference: the same gradients summed by the ring (same layout, so the same order
    /// of additions) and applied by <paramref name="whole"/> as one whole update.
    /// </summary>
    public static async Task ShardedStepAsync(RingHarness ring, ReplicaTrainer whole, ReplicaTrainer[] trainers, TrainBatch[] batches, ShardLayout layout, long step)
    {
        int n = trainers.Length, count = whole.ParameterCount;
        int global = batches.Sum(b => b.Count);
        for (int r = 0; r < n; r++) trainers[r].ComputeGradients(batches[r], global);
        var summed = trainers.Select(t => (float[])t.Gradients.Clone()).ToArray();
        var sums = RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllReduceSum(summed[r], count, 1000 + step, layout, null); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(sums));
        whole.ComputeGradients(batches[0], global);
        summed[0].CopyTo(whole.Gradients, 0);
        whole.ApplyUpdate();

        var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r =>
        {
            ring.Sessions[r].AllReduceSum(trainers[r].Gradients, count, step, layout, trainers[r].UpdateRange);
            trainers[r].CommitUpdate();
            return r;
        });
        await RingHarness.WithinGuard(Task.WhenAll(runs));
    }
}
