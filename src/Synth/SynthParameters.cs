namespace FaceCluster.Synth;

/// <summary>The generation parameters recorded in the truth file (everything that determines the output).</summary>
public sealed record SynthParameters
{
    public required int Identities { get; init; }
    public required int PerIdentity { get; init; }
    public required double BadFraction { get; init; }
    public required double HardFraction { get; init; }
    public required int Size { get; init; }
    public required int HoldoutPerIdentity { get; init; }
    public required double JpegFraction { get; init; }
}
