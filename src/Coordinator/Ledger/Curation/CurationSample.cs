
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
    /// <summary>
    /// ln of its mean relative loss over every observation since it was first seen (the area under its relative-loss
    /// curve ÷ its observations, as AUM averages a margin over all epochs); NaN without observations. Unlike the moving
    /// average it keeps what the model showed before it memorised the face.
    /// </summary>
    public float MeanLog { get; init; } = float.NaN;

    /// <summary>Mean ln(relative loss) over its first observations (the policy's early-observation count); NaN before it has half of them.</summary>
    public float EarlyLog { get; init; } = float.NaN;

    /// <summary>The run's face check found no face where its set's faces are in its image (a prior, see <see cref="CurationPolicyOptions.FaceCheck"/>).</summary>
    public bool NoFace { get; init; }

    /// <summary>
    /// The robust z of its light-normalised texture's distance from its identity's other faces (the run's texture check,
    /// see <see cref="CurationPolicyOptions.DetectTexture"/>); NaN where it was not scored.
    /// </summary>
    public float TextureZ { get; init; } = float.NaN;

    /// <summary>That distance as a ratio to its identity's median; NaN where it was not scored.</summary>
    public float TextureRatio { get; init; } = float.NaN;

    /// <summary>Identity probes recorded (0 when the model has none, or before the first).</summary>
    public int Probes { get; init; }

    /// <summary>Smoothed identity margin over its probes: ln(own decoder's loss ÷ the best other decoder's); NaN without probes.</summary>
    public float IdentityMargin { get; init; } = float.NaN;

    /// <summary>Its newest probe's margin, when that probe came at the end of this cycle; NaN otherwise (nothing new to judge).</summary>
    public float ProbeMargin { get; init; } = float.NaN;

    /// <summary>Its outlier history over its judged probes (<see cref="ProbeBits"/>).</summary>
    public uint ProbeOutlierBits { get; init; }
}
