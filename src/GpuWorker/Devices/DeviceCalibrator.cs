using System.Diagnostics;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Randomness;

namespace FaceCluster.GpuWorker.Devices;

/// <summary>
/// A short calibration on the run's own model: the samples per second of the training step, and the largest
/// local batch that fits, found by probing (doubling until the device runs out of memory, or until the CPU's
/// memory budget or the cap). Probing never changes the replica's weights.
/// </summary>
public static class DeviceCalibrator
{
    public sealed record Result(double SamplesPerSecond, int MaxBatch);

    /// <summary>Default probe caps: GPUs are probed up to 4096, the CPU up to 256 (each probe on a CPU costs seconds).</summary>
    public static int DefaultCap(WorkerDevice device) => device.Kind == "cpu" ? 256 : 4096;

    public static Result Calibrate(ReplicaTrainer trainer, WorkerDevice device, int maxBatchOverride, ILogger log)
    {
        int size = trainer.Model.Preset.ImageSize;
        int labels = trainer.Model.Labels.Count;
        bool targets = trainer.Model.BatchKind == Common.FaceSet.BatchKind.Reconstruction;
        int cap = maxBatchOverride > 0 ? maxBatchOverride : DefaultCap(device);

        // Throughput: one warm-up step, then timed steps at a moderate batch. The fastest step counts: what the
        // device can do, not what a neighbour on a shared host left it at that moment (the coordinator measures the
        // real steps again and corrects the split early in the run).
        int probeBatch = Math.Min(16, cap);
        var batch = RandomBatch(probeBatch, size, labels, targets);
        trainer.ComputeGradients(batch, probeBatch);
        var total = Stopwatch.StartNew();
        double fastest = double.MaxValue;
        int reps = 0;
        do
        {
            var watch = Stopwatch.StartNew();
            trainer.ComputeGradients(batch, probeBatch);
            fastest = Math.Min(fastest, watch.Elapsed.TotalSeconds);
            reps++;
        }
        while (reps < 3 || (total.Elapsed < TimeSpan.FromMilliseconds(300) && reps < 20));
        double sps = probeBatch / Math.Max(fastest, 1e-6);
        trainer.AbandonStep();

        // Largest batch: double until it fails or would not fit.
        int fits = probeBatch;
        long before = HostInfo.ResidentBytes();
        for (int b = Math.Min(probeBatch * 2, cap); b > fits; b = Math.Min(b * 2, cap))
        {
            if (device.Kind == "cpu")
            {
                long perSample = Math.Max(1, (HostInfo.ResidentBytes() - before) / Math.Max(1, fits));
                if ((long)b * perSample * 2 > HostInfo.AvailableMemoryBytes()) break;
            }
            try
            {
                trainer.ComputeGradients(RandomBatch(b, size, labels, targets), b);
                fits = b;
            }
            catch (Exception e) when (IsOutOfMemory(e))
            {
                log.LogInformation("Device {Device}: batch {Batch} does not fit ({Message})", device, b, e.Message.Split('\n')[0]);
                break;
            }
            finally
            {
                trainer.AbandonStep();
            }
        }
        if (device.Kind == "cuda") ReleaseCudaCache();
        log.LogInformation("Device {Device}: {Sps:F1} samples/s at batch {Probe}, largest batch {Max}", device, sps, probeBatch, fits);
        return new Result(sps, fits);
    }

    private static bool IsOutOfMemory(Exception e) =>
        e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e is OutOfMemoryException;

    private static void ReleaseCudaCache()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    private static TrainBatch RandomBatch(int count, int size, int labels, bool targets)
    {
        var rng = new DeterministicRng(12345);
        int n = count * 3 * size * size;
        var inputs = new float[n];
        for (int i = 0; i < n; i++) inputs[i] = (float)rng.NextDouble();
        return new TrainBatch(count, size, Enumerable.Range(0, count).ToArray(),
            Enumerable.Range(0, count).Select(i => (long)(i % labels)).ToArray(), inputs, targets ? inputs : null);
    }
}
