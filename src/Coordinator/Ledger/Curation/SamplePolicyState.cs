using System.Runtime.InteropServices;

namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// What the curation policy remembers about one sample between cycles. A plain value (it is persisted as raw
/// bytes in ledger.db, so changing the layout needs a new schema version). <see cref="Initial"/> for a new sample.
/// </summary>
/// <param name="HighBits">Bit k set: a high outlier k evaluations ago (bit 0 = the newest).</param>
/// <param name="OddBits">Bit k set: a low or erratic outlier k evaluations ago.</param>
/// <param name="Evaluated">Evaluations so far (cycles seen after the warm-up).</param>
/// <param name="LastZ">Robust z of its smoothed log relative loss in its last evaluation (NaN before the first).</param>
/// <param name="LastErraticZ">Robust z of the log of its relative-loss spread in its last evaluation (NaN before the first).</param>
/// <param name="LastExcess">Its smoothed log relative loss minus its identity's median, in its last evaluation.</param>
/// <param name="RecentCycleExcess">Moving average (weight ½) over its evaluations of its cycle's own mean log relative loss minus its identity's median: where it stands now, without the smoothing's lag (the baseline of a re-feed).</param>
/// <param name="RefeedSince">The cycle its current re-feed began (-1 when not re-fed).</param>
/// <param name="RefeedWeight">Oversampling weight while re-fed (1 otherwise).</param>
/// <param name="RefeedBaseline">Its excess when the current re-feed window began.</param>
/// <param name="RefeedWindow">Evaluated cycles in the current re-feed window.</param>
/// <param name="RefeedWindowExcess">Σ over the window's cycles of (the cycle's mean log relative loss − its identity's median): what it did while re-fed, free of the smoothing's lag.</param>
/// <param name="RefeedCycles">Evaluated cycles re-fed in total.</param>
/// <param name="RefeedTrend">Excess at the last window's end ÷ excess at its start (NaN before the first window ends).</param>
/// <param name="LearnedAtCycle">The cycle a re-feed ended because it became normal (-1 if never): a relapse soon after is memorisation, not learning.</param>
/// <param name="Held">1 when a prune was due but held back by a cap: it is pruned (not re-fed again) as soon as the caps allow.</param>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public readonly record struct SamplePolicyState(
    uint HighBits, uint OddBits, int Evaluated, float LastZ, float LastErraticZ, float LastExcess, float RecentCycleExcess,
    long RefeedSince, float RefeedWeight, float RefeedBaseline, int RefeedWindow, float RefeedWindowExcess, int RefeedCycles, float RefeedTrend,
    long LearnedAtCycle, int Held)
{
    public static SamplePolicyState Initial { get; } = new(0, 0, 0, float.NaN, float.NaN, float.NaN, float.NaN, -1, 1f, float.NaN, 0, 0f, 0, float.NaN, -1, 0);

    /// <summary>Outlier evaluations (high, low or erratic) among the last <paramref name="window"/>.</summary>
    public int OutliersInLast(int window) => System.Numerics.BitOperations.PopCount((HighBits | OddBits) & Mask(window));

    public int HighInLast(int window) => System.Numerics.BitOperations.PopCount(HighBits & Mask(window));

    public int OddInLast(int window) => System.Numerics.BitOperations.PopCount(OddBits & Mask(window));

    private static uint Mask(int window) => window >= 32 ? uint.MaxValue : (1u << Math.Max(0, window)) - 1;
}
