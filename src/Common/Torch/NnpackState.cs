namespace FaceCluster.Common.Torch;

/// <summary>NNPACK in the loaded libtorch.</summary>
public enum NnpackState
{
    /// <summary>NNPACK initialises on this CPU; left as it was.</summary>
    Available,
    /// <summary>Already off (by the user or libtorch).</summary>
    Off,
    /// <summary>NNPACK cannot initialise on this CPU, and was turned off.</summary>
    TurnedOffUnsupported,
}
