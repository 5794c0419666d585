namespace FaceCluster.Synth;

/// <summary>
/// One file of the plan: the identity folder, its number in the file name, what it really is, whose face is
/// drawn (differs from <see cref="Identity"/> only for wrong-identity images), its seed and format.
/// </summary>
internal sealed record SynthPlannedImage(int Identity, int Number, SynthKind Kind, int DrawnIdentity, int Seed, bool Jpeg)
{
    public SynthImageRequest Request => new(Identity, Kind, DrawnIdentity, Seed);
}
