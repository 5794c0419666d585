namespace FaceCluster.Synth;

/// <summary>One image to draw: whose folder it goes to, what it really is, whose face is drawn, and its own seed.</summary>
internal sealed record SynthImageRequest(int Identity, SynthKind Kind, int DrawnIdentity, int Seed);
