using System.Runtime.InteropServices;

namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>
/// The per-sample fields updated at every observation, kept together (60 bytes) so that recording an observation
/// touches one place in memory; the ledger holds one array of these indexed by the sample's dense index, beside
/// separate arrays for the colder fields. Persisted as raw bytes (a layout change needs a new schema version).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct SampleCounters
{
    /// <summary>Finite losses recorded.</summary>
    public int Observations;
    /// <summary>Observations that got a relative loss (their step had a usable median).</summary>
    public int RelObservations;
    public int Identity;
    /// <summary>The newest step it was seen in (clamped to int).</summary>
    public int LastStep;
    public float LastLoss;
    /// <summary>Exponential moving average of the loss.</summary>
    public float EmaLoss;
    /// <summary>Exponential moving average of ln(relative loss); exp of it is the (geometric) EMA of the relative loss.</summary>
    public float SmoothedLog;
    /// <summary>Exponential moving average of ln(relative loss)²: with <see cref="SmoothedLog"/>, the spread of its relative loss.</summary>
    public float SmoothedLogSq;
    /// <summary>Relative observations in the open cycle.</summary>
    public int CycleObservations;
    /// <summary>Σ ln(relative loss) in the open cycle.</summary>
    public float CycleSumLog;
    /// <summary>Σ loss (of the relative observations) in the open cycle.</summary>
    public float CycleSumLoss;
    /// <summary>Area under its relative-loss curve: Σ (relative loss − 1) over its relative observations.</summary>
    public double Auc;
    /// <summary>Relative observations counted in <see cref="EarlySumLog"/> (at most the policy's early-observation count).</summary>
    public int EarlyObservations;
    /// <summary>Σ ln(relative loss) over its first relative observations: how it trained before the model could memorise it.</summary>
    public float EarlySumLog;

    public readonly float SmoothedSpread => MathF.Sqrt(MathF.Max(0, SmoothedLogSq - SmoothedLog * SmoothedLog));
}
