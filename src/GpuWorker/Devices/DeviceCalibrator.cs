using System.Diagnostics;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Randomness;

namespace FaceCluster.GpuWorker.Devices;

/// <summary>
/// A short calibration on the run's own model: the samples per second of the training step, and the largest
/// local batch that fits. On a GPU that is found by probing (doubling until the device runs out of memory, or until
/// the cap). On the CPU it is computed, not probed: the memory the timed steps took per sample, twice over, against
/// the host's available memory (<see cref="CpuLargestBatch"/>). Running ever larger batches there told nothing more
/// (a CPU that runs out of memory is killed by the kernel, not told so), and cost every CPU worker seconds at start,
/// minutes where several share a host. Calibration never changes the replica's weights.
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
        long residentBefore = HostInfo.ResidentBytes();
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
        long perSample = Math.Max(MinBytesPerSample(size), (HostInfo.ResidentBytes() - residentBefore) / probeBatch);
        trainer.AbandonStep();

        if (device.Kind == "cpu")
        {
            int largest = CpuLargestBatch(probeBatch, cap, perSample, HostInfo.AvailableMemoryBytes());
            log.LogInformation("Device {Device}: {Sps:F1} samples/s at batch {Probe}, largest batch {Max} ({PerSample:F1} MB a sample, twice over, in the memory available)",
                device, sps, probeBatch, largest, perSample / 1e6);
            return new Result(sps, largest);
        }

        // Largest batch on a GPU: double until it fails.
        int fits = probeBatch;
        for (int b = Math.Min(probeBatch * 2, cap); b > fits; b = Math.Min(b * 2, cap))
        {
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

    /// <summary>
    /// The CPU's largest batch: the probe batch doubled while twice <paramref name="bytesPerSample"/> for every sample
    /// fits in <paramref name="availableBytes"/>, up to <paramref name="cap"/> (which is taken when a doubling passes it
    /// and the cap itself fits). Never below the probe batch, which has just run.
    /// </summary>
    public static int CpuLargestBatch(int probeBatch, int cap, long bytesPerSample, long availableBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probeBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSample, 1);
        bool Fits(int b) => (double)b * bytesPerSample * 2 <= availableBytes;
        int fits = probeBatch;
        for (int b = Math.Min(probeBatch * 2, cap); b > fits && Fits(b); b = Math.Min(b * 2, cap)) fits = b;
        return fits;
    }

    /// <summary>The least a sample can take in a training step: its input, target and their gradients, in float32.</summary>
    private static long MinBytesPerSample(int size) => 4L * 3 * size * size * 4;

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
