
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>One sample seen in the closing cycle, as the policy needs it.</summary>
/// <param name="Index">The ledger's dense index of the sample (echoed in the outcome).</param>
/// <param name="Identity">Index of its identity in the snapshot's identity list.</param>
/// <param name="CycleObservations">Observations with a relative loss in this cycle.</param>
/// <param name="CycleMeanLog">Mean of ln(relative loss) over this cycle's observations.</param>
/// <param name="Observations">Observations with a relative loss in total.</param>
/// <param name="SmoothedLog">Exponential moving average over its observations of ln(loss / median loss of the step).</param>
/// <param name="SmoothedSpread">Standard deviation of that log relative loss, from the moving averages of it and of its square.</param>
/// <param name="State">What the policy remembered about it after the previous cycle.</param>
public readonly record struct CurationSample(
    int Index, int Identity, SampleStatus Status, int CycleObservations, float CycleMeanLog, int Observations,
    float SmoothedLog, float SmoothedSpread, SamplePolicyState State)
{
    /// <summary>Identity probes recorded (0 when the model has none, or before the first).</summary>
    public int Probes { get; init; }

    /// <summary>Smoothed identity margin over its probes: ln(own decoder's loss ÷ the best other decoder's); NaN without probes.</summary>
    public float IdentityMargin { get; init; } = float.NaN;

    /// <summary>Its newest probe's margin, when that probe came at the end of this cycle; NaN otherwise (nothing new to judge).</summary>
    public float ProbeMargin { get; init; } = float.NaN;

    /// <summary>Bit k set: an identity outlier in its k-th newest judged probe.</summary>
    public uint ProbeOutlierBits { get; init; }
}
