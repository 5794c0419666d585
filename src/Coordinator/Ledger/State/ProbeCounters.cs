using System.Runtime.InteropServices;

namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>
/// A sample's identity-probe statistics (24 bytes). The identity margin of one probe is ln(loss through its own
/// identity's decoder ÷ the lowest loss through another identity's decoder), on the image without augmentation.
/// Persisted as raw bytes beside <see cref="SampleCounters"/> (schema version 2).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct ProbeCounters
{
    /// <summary>Probes with a finite margin.</summary>
    public int Probes;
    /// <summary>The cycle of the newest probe (-1 before the first).</summary>
    public int LastCycle;
    /// <summary>The newest probe's margin (the policy judges each probe's margin against the same probe's others).</summary>
    public float LastMargin;
    /// <summary>Exponential moving average of the margin over its probes (what queries show).</summary>
    public float SmoothedMargin;
    /// <summary>Robust z of <see cref="LastMargin"/> against its identity's, when the policy last judged a probe of it (NaN before).</summary>
    public float LastZ;
    /// <summary>Its outlier history over its judged probes (<see cref="Curation.ProbeBits"/>: bit 0 = the newest).</summary>
    public uint OutlierBits;

    public static ProbeCounters Initial => new() { LastCycle = -1, LastMargin = float.NaN, SmoothedMargin = float.NaN, LastZ = float.NaN };

    /// <summary>Records one probe; false (nothing recorded) when either loss is not finite and positive (no finite ratio).</summary>
    public bool Record(float own, float other, long cycle, float smoothing)
    {
        if (!(own > 0) || !(other > 0) || !float.IsFinite(own) || !float.IsFinite(other)) return false;
        float margin = MathF.Log(own / other);
        SmoothedMargin = Probes == 0 ? margin : (1 - smoothing) * SmoothedMargin + smoothing * margin;
        LastMargin = margin;
        LastCycle = (int)Math.Min(cycle, int.MaxValue);
        Probes++;
        return true;
    }
}
