using FaceCluster.Common.Errors;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>
/// Splits the global batch into local batches in proportion to each worker's measured throughput, within each
/// worker's memory limit, so that every worker finishes its compute at about the same time (the idea of LB-BSP
/// and Cannikin: balance the batch, not the data). The local batches always sum to the global batch, so the
/// weighted gradients still average to the exact global-batch mean.
/// </summary>
public static class BatchBalancer
{
    public sealed record Capacity(string WorkerId, double SamplesPerSecond, int MaxBatch);

    public static int[] Balance(int globalBatch, IReadOnlyList<Capacity> workers)
    {
        int n = workers.Count;
        if (n == 0) throw new ArgumentException("no workers to balance over", nameof(workers));
        if (globalBatch < n)
            throw new FaceClusterException($"--batch {globalBatch} is smaller than the number of workers ({n}); every worker needs at least one sample per step", ExitCodes.UsageError);
        long capacity = workers.Sum(w => (long)Math.Max(1, w.MaxBatch));
        if (capacity < globalBatch)
            throw new FaceClusterException($"--batch {globalBatch} does not fit: the workers' largest batches add up to {capacity} ({string.Join(", ", workers.Select(w => $"{w.WorkerId}: {w.MaxBatch}"))})");

        var speed = workers.Select(w => double.IsFinite(w.SamplesPerSecond) && w.SamplesPerSecond > 0 ? w.SamplesPerSecond : 0).ToArray();
        if (speed.All(s => s == 0)) speed = Enumerable.Repeat(1.0, n).ToArray();
        for (int i = 0; i < n; i++) if (speed[i] == 0) speed[i] = speed.Where(s => s > 0).Min() * 0.5;
        var caps = workers.Select(w => Math.Max(1, w.MaxBatch)).ToArray();

        // Water-filling: give every worker its proportional share; whoever exceeds its cap is fixed at the cap and
        // the rest is shared again among the others.
        var share = new double[n];
        var fixedAtCap = new bool[n];
        double remaining = globalBatch;
        while (true)
        {
            double speedSum = 0;
            for (int i = 0; i < n; i++) if (!fixedAtCap[i]) speedSum += speed[i];
            bool changed = false;
            for (int i = 0; i < n; i++)
            {
                if (fixedAtCap[i]) continue;
                share[i] = remaining * speed[i] / speedSum;
                if (share[i] > caps[i]) { fixedAtCap[i] = true; share[i] = caps[i]; remaining -= caps[i]; changed = true; }
            }
            if (!changed) break;
        }

        // Largest remainder rounding, at least one sample each, never above a cap.
        var result = new int[n];
        for (int i = 0; i < n; i++) result[i] = Math.Clamp((int)Math.Floor(share[i]), 1, caps[i]);
        int diff = globalBatch - result.Sum();
        var order = Enumerable.Range(0, n).OrderByDescending(i => share[i] - Math.Floor(share[i])).ThenByDescending(i => speed[i]).ToArray();
        while (diff != 0)
        {
            bool moved = false;
            foreach (int i in diff > 0 ? order : order.Reverse())
            {
                if (diff > 0 && result[i] < caps[i]) { result[i]++; diff--; moved = true; }
                else if (diff < 0 && result[i] > 1) { result[i]--; diff++; moved = true; }
                if (diff == 0) break;
            }
            if (!moved) throw new InvalidOperationException("cannot balance the batch within the caps");
        }
        return result;
    }
}
