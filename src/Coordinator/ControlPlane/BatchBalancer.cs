
namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>
/// Splits the global batch into local batches so that every worker finishes its compute at about the same time
/// (the idea of LB-BSP and Cannikin: balance the batch, not the data), within each worker's memory limit. A
/// worker's step costs <c>FixedMs + batch × 1000 / SamplesPerSecond</c> ms: the fixed part (the optimizer update)
/// is paid whatever the batch, which matters for a slow worker with a small batch. With no fixed costs the split
/// is proportional to throughput. The local batches always sum to the global batch, so the weighted gradients
/// still average to the exact global-batch mean.
/// </summary>
public static class BatchBalancer
{
    /// <param name="SamplesPerSecond">The batch-dependent rate: samples per second of forward and backward.</param>
    /// <param name="FixedMs">The per-step cost that does not depend on the batch (0: unknown or none).</param>
    public sealed record Capacity(string WorkerId, double SamplesPerSecond, int MaxBatch, double FixedMs = 0);

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

        // Equal finishing time T: worker i computes (T - fixed_i) × speed_i samples, within [0, cap_i]; the total grows
        // with T, so bisection finds the T whose shares add up to the global batch (water-filling when there are caps).
        var fixedMs = workers.Select(w => double.IsFinite(w.FixedMs) && w.FixedMs > 0 ? w.FixedMs : 0).ToArray();
        double[] Shares(double t)
        {
            var s = new double[n];
            for (int i = 0; i < n; i++) s[i] = Math.Clamp((t - fixedMs[i]) * speed[i] / 1000.0, 0, caps[i]);
            return s;
        }
        double lo = 0, hi = fixedMs.Max() + globalBatch * 1000.0 / speed.Min() + 1;
        for (int k = 0; k < 200 && hi - lo > 1e-9 * hi; k++)
        {
            double mid = (lo + hi) / 2;
            if (Shares(mid).Sum() < globalBatch) lo = mid; else hi = mid;
        }
        var share = Shares(hi);

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
