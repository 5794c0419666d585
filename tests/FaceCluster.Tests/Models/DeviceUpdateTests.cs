using FaceCluster.Tests.Support;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Errors;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Torch;
using TorchSharp;

namespace FaceCluster.Tests.Models;

/// <summary>
/// The update on the device (<see cref="DeviceAdam"/>, moments in device memory), exercised on the CPU with separate
/// "device" vectors and every copy a GPU worker makes. Its moments are the host update's bit for bit; its parameters are
/// within a unit in the last place (libtorch's √ is not correctly rounded); the replicas of a ring that mixes both
/// placements agree bit for bit; a checkpoint and an abandoned step carry the device's moments.
/// </summary>
[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class DeviceUpdateTests
{
    private static ReplicaTrainer NewTrainer(UpdatePlacement placement, int seed = 7) => TrainerTestKit.NewTrainer(seed, placement);

    private static ReplicaTrainer CopyOf(ReplicaTrainer source, UpdatePlacement placement) => TrainerTestKit.CopyOf(source, placement);

    private static float[] Weights(ReplicaTrainer trainer) => TrainerTestKit.Weights(trainer);

    private static void AssertSameMoments(ReplicaTrainer expected, ReplicaTrainer actual, string what)
    {
        Assert.True(expected.Optimizer.FirstMoments.AsSpan().SequenceEqual(actual.Optimizer.FirstMoments), $"{what}: first moments differ");
        Assert.True(expected.Optimizer.SecondMoments.AsSpan().SequenceEqual(actual.Optimizer.SecondMoments), $"{what}: second moments differ");
    }

    /// <summary>Units in the last place between two floats of one sign (what the √ rounding can move).</summary>
    private static int Ulps(float a, float b) => a == b ? 0 : Math.Abs(BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    /// <summary>
    /// Within <paramref name="tolerance"/> (absolute, plus as much relative): far below one Adam step (lr = 5e-4), so a wrong
    /// range, bias correction or moment fails it, while ulp-level roundings that trajectories amplify a little pass.
    /// </summary>
    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what) => TrainerTestKit.AssertClose(expected, actual, tolerance, what);

    [Fact]
    public void DeviceAdam_keeps_FlatAdams_moments_bit_for_bit_and_its_parameters_within_an_ulp()
    {
        const int n = 4099;
        var options = TrainerOptions.For(ModelPreset.Tiny);
        var rng = new Random(3);
        float[] hostParams = new float[n], deviceParams;
        for (int i = 0; i < n; i++) hostParams[i] = (float)(rng.NextDouble() - 0.5);
        deviceParams = (float[])hostParams.Clone();
        var host = new FlatAdam(n, options);
        using var device = new DeviceAdam(n, options, torch.CPU);
        using var p = torch.frombuffer(deviceParams, torch.ScalarType.Float32);
        for (long t = 1; t <= 6; t++)
        {
            float[] g = new float[n];
            // Gradients of every scale, zeros and signs included, as backward produces them.
            for (int i = 0; i < n; i++) g[i] = i % 97 == 0 ? 0f : (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 2)));
            float[] hostBuffer = (float[])g.Clone(), deviceBuffer = (float[])g.Clone();
            // The host as two ranges (what a rank of a ring does), the device as three: the split changes nothing.
            host.UpdateRange(hostParams, hostBuffer, 0, 1000, t);
            host.UpdateRange(hostParams, hostBuffer, 1000, n - 1000, t);
            using (var b = torch.frombuffer(deviceBuffer, torch.ScalarType.Float32))
            {
                device.UpdateRange(p, b, 0, 17, t);
                device.UpdateRange(p, b, 17, 3000, t);
                device.UpdateRange(p, b, 3017, n - 3017, t);
            }
            float[] m = new float[n], v = new float[n];
            device.CopyTo(m, v);
            Assert.True(host.FirstMoments.AsSpan().SequenceEqual(m), $"update {t}: first moments differ");
            Assert.True(host.SecondMoments.AsSpan().SequenceEqual(v), $"update {t}: second moments differ");
            // p − s·m/(√v·r + ε): √ off by one ulp moves the quotient by about one, and the difference by at most two.
            for (int i = 0; i < n; i++)
                Assert.True(Ulps(hostBuffer[i], deviceBuffer[i]) <= 2, $"update {t}, element {i}: {deviceBuffer[i]:R} on the device, {hostBuffer[i]:R} on the host");
            // Both continue from the host's parameters, so every update compares one step, not two trajectories.
            hostBuffer.CopyTo(hostParams, 0);
            hostBuffer.CopyTo(deviceParams, 0);
        }
    }

    [Fact]
    public void DeviceAdam_refuses_a_range_outside_its_vector_and_an_update_numbered_zero()
    {
        using var adam = new DeviceAdam(10, TrainerOptions.For(ModelPreset.Tiny), torch.CPU);
        using var p = torch.zeros(10);
        using var g = torch.zeros(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.UpdateRange(p, g, 5, 6, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.UpdateRange(p, g, 0, 10, 0));
        using var small = torch.zeros(9);
        Assert.Throws<ArgumentException>(() => adam.UpdateRange(small, g, 0, 9, 1));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_replica_that_updates_on_the_device_follows_the_host_replica(bool gradientsToHost)
    {
        using var host = NewTrainer(UpdatePlacement.Host, seed: 21);
        using var device = CopyOf(host, UpdatePlacement.Device);
        Assert.Equal(UpdatePlacement.Device, device.UpdateOn);
        Assert.Equal(UpdatePlacement.Host, host.UpdateOn);
        for (int step = 0; step < 4; step++)
        {
            var batch = ModelTestData.RandomBatch(3, 32, 3, seed: (ulong)(60 + step));
            var a = host.ComputeGradients(batch, 3);
            var b = device.ComputeGradients(batch, 3, toHost: gradientsToHost);
            if (step == 0) Assert.Equal(a.Losses, b.Losses);
            if (gradientsToHost && step == 0) Assert.Equal(host.Gradients, device.Gradients);
            host.ApplyUpdate();
            device.ApplyUpdate();
            if (step == 0) AssertSameMoments(host, device, "after the first step"); // the same gradients so far
            AssertClose(Weights(host), Weights(device), 1e-6, $"step {step + 1}");
        }
        Assert.Equal(host.Step, device.Step);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_ring_that_mixes_device_and_host_updates_keeps_its_replicas_identical_and_follows_the_whole_update(int n)
    {
        using var whole = NewTrainer(UpdatePlacement.Host, seed: 12);
        // Rank 0 updates on the "device", rank 1 on the host, rank 2 on the device again.
        var trainers = Enumerable.Range(0, n).Select(r => CopyOf(whole, r % 2 == 0 ? UpdatePlacement.Device : UpdatePlacement.Host)).ToArray();
        try
        {
            using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 64 * 1024 });
            int count = whole.ParameterCount;
            var layout = ShardLayout.Proportional(count, Enumerable.Range(0, n).Select(r => 1.0 + 2 * r).ToArray());
            for (int step = 0; step < 3; step++)
            {
                var batches = Enumerable.Range(0, n).Select(r => ModelTestData.RandomBatch(2 + r, 32, 3, seed: (ulong)(100 * step + r))).ToArray();
                await TrainerTestKit.ShardedStepAsync(ring, whole, trainers, batches, layout, step);
                // Each range was updated by one rank, on its device or its host, and all-gathered: one set of bits.
                foreach (var t in trainers) Assert.Equal(trainers[0].ParameterChecksum(), t.ParameterChecksum());
                AssertClose(Weights(whole), Weights(trainers[0]), 1e-6, $"step {step + 1} against the whole host update");
            }

            // The moments: each rank's own range is current; the exchange makes every range current on every rank.
            var exchanges = RingHarness.OnThreads(Enumerable.Range(0, n), r =>
            {
                int round = 0;
                trainers[r].ExchangeMoments(m => ring.Sessions[r].AllGather(m, count, 500 + round++, layout));
                return r;
            });
            await RingHarness.WithinGuard(Task.WhenAll(exchanges));
            for (int r = 1; r < n; r++) AssertSameMoments(trainers[0], trainers[r], $"rank {r} ({trainers[r].UpdateOn.Name()})");
            AssertClose(whole.Optimizer.FirstMoments, trainers[0].Optimizer.FirstMoments, 1e-5, "the exchanged first moments");

            // And the next step, the device ranks reading the exchanged moments back from their device, still agrees.
            var last = Enumerable.Range(0, n).Select(r => ModelTestData.RandomBatch(2, 32, 3, seed: (ulong)(900 + r))).ToArray();
            await TrainerTestKit.ShardedStepAsync(ring, whole, trainers, last, layout, 3);
            foreach (var t in trainers) Assert.Equal(trainers[0].ParameterChecksum(), t.ParameterChecksum());
            AssertClose(Weights(whole), Weights(trainers[0]), 1e-6, "the step after the exchange");
        }
        finally
        {
            foreach (var t in trainers) t.Dispose();
        }
    }

    [Fact]
    public void A_checkpoint_of_a_device_replica_carries_its_moments_to_the_host_and_back()
    {
        using var device = NewTrainer(UpdatePlacement.Device, seed: 31);
        for (int step = 0; step < 2; step++)
        {
            device.ComputeGradients(ModelTestData.RandomBatch(3, 32, 3, seed: (ulong)(10 + step)), 3, toHost: false);
            device.ApplyUpdate();
        }
        var bundle = device.ExportBundle();
        using var host = NewTrainer(UpdatePlacement.Host, seed: 5);
        host.ImportBundle(bundle, "a device checkpoint");
        using var deviceAgain = NewTrainer(UpdatePlacement.Device, seed: 6);
        deviceAgain.ImportBundle(bundle, "a device checkpoint");
        AssertSameMoments(device, host, "the moments the checkpoint carried");
        Assert.Contains(host.Optimizer.SecondMoments, x => x != 0f);

        var batch = ModelTestData.RandomBatch(3, 32, 3, seed: 77);
        foreach (var t in new[] { device, host, deviceAgain }) { t.ComputeGradients(batch, 3); t.ApplyUpdate(); }
        Assert.Equal(device.ParameterChecksum(), deviceAgain.ParameterChecksum()); // the same path from the same state
        AssertClose(Weights(device), Weights(host), 1e-6, "the host's step from the device's checkpoint");
        Assert.Equal(3, deviceAgain.Step);
    }

    [Fact]
    public void An_abandoned_step_on_the_device_goes_back_to_the_boundary_on_the_device_too()
    {
        using var device = NewTrainer(UpdatePlacement.Device, seed: 41);
        using var clean = CopyOf(device, UpdatePlacement.Device);
        var batch = ModelTestData.RandomBatch(3, 32, 3, seed: 2);
        foreach (var t in new[] { device, clean }) { t.ComputeGradients(batch, 3); t.ApplyUpdate(); t.SaveOptimizerBoundary(); }
        float[] m = [.. device.Optimizer.FirstMoments];

        // A segment that updated part of its range on the device and then failed.
        device.ComputeGradients(batch, 3);
        device.UpdateRange(0, 1000);
        Assert.False(m.AsSpan().SequenceEqual(device.Optimizer.FirstMoments));
        device.AbandonStep();
        Assert.True(device.RestoreOptimizerBoundary());
        Assert.True(m.AsSpan().SequenceEqual(device.Optimizer.FirstMoments));

        // The device's own moments went back (not a host copy only): the next step equals that of a replica that never failed.
        var next = ModelTestData.RandomBatch(3, 32, 3, seed: 3);
        foreach (var t in new[] { device, clean }) { t.ComputeGradients(next, 3, toHost: false); t.ApplyUpdate(); }
        Assert.Equal(clean.ParameterChecksum(), device.ParameterChecksum());
        AssertSameMoments(clean, device, "after the step that followed");
    }

    [Theory]
    [InlineData(null, "cpu", UpdatePlacement.Host)]
    [InlineData("auto", "cpu", UpdatePlacement.Host)]
    [InlineData(" Auto ", "cuda", UpdatePlacement.Device)]
    [InlineData("host", "cuda", UpdatePlacement.Host)]
    [InlineData("DEVICE", "cpu", UpdatePlacement.Device)]
    public void The_update_on_flag_resolves_per_device(string? flag, string device, UpdatePlacement expected)
    {
        var d = device == "cpu" ? torch.CPU : new torch.Device(DeviceType.CUDA, 0);
        Assert.Equal(expected, UpdatePlacements.Resolve(flag, d));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("hosts")]
    public void A_wrong_update_on_value_is_refused_by_name(string flag)
    {
        var e = Assert.Throws<FaceClusterException>(() => UpdatePlacements.Normalize(flag));
        Assert.Contains($"'{flag}'", e.Message);
        Assert.Contains("auto, host or device", e.Message);
        Assert.Equal(ExitCodes.UsageError, e.ExitCode);
    }

    [Fact]
    public void A_host_buffer_for_the_cpu_is_pageable_and_shares_its_memory_with_its_tensor()
    {
        using var buffer = new PinnedHostBuffer(8, torch.CPU);
        Assert.False(buffer.IsPageLocked);
        Assert.Equal("pageable (cpu device)", buffer.Detail);
        buffer.Array[3] = 2.5f;
        using (var s = buffer.Tensor[3].ToScalar()) Assert.Equal(2.5f, s.ToSingle());
        buffer.Tensor.fill_(1f);
        Assert.All(buffer.Array, x => Assert.Equal(1f, x));
    }
}
