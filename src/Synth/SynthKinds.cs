namespace FaceCluster.Synth;

/// <summary>Helpers over <see cref="SynthKind"/>: which kinds are bad, and their truth-file names.</summary>
public static class SynthKinds
{
    /// <summary>The five planted bad kinds, in the order the generator cycles through them.</summary>
    public static IReadOnlyList<SynthKind> Bad { get; } =
        [SynthKind.NotAFace, SynthKind.WrongIdentity, SynthKind.Misaligned, SynthKind.Occluded, SynthKind.BlankOrOverexposed];

    /// <summary>Every kind, good ones first.</summary>
    public static IReadOnlyList<SynthKind> All { get; } = [SynthKind.Good, SynthKind.Hard, .. Bad];

    /// <summary>True for the planted bad kinds; false for good and hard faces.</summary>
    public static bool IsBad(this SynthKind kind) => kind is not (SynthKind.Good or SynthKind.Hard);

    /// <summary>The name used in the truth file and in reports: "good", "hard", "not-a-face", ...</summary>
    public static string WireName(this SynthKind kind) => kind switch
    {
        SynthKind.Good => "good",
        SynthKind.Hard => "hard",
        SynthKind.NotAFace => "not-a-face",
        SynthKind.WrongIdentity => "wrong-identity",
        SynthKind.Misaligned => "misaligned",
        SynthKind.Occluded => "occluded",
        SynthKind.BlankOrOverexposed => "blank-or-overexposed",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown synth kind"),
    };
}
