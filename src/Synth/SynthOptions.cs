
namespace FaceCluster.Synth;

/// <summary>
/// What <see cref="SynthGenerator"/> generates. The property names match the `facecluster synth` flags, and
/// <see cref="Validate"/> names the flag and the value it rejects.
/// </summary>
public sealed record SynthOptions
{
    /// <summary>Smallest number of good (non-hard, non-bad) images every identity keeps.</summary>
    public const int MinGoodPerIdentity = 3;
    public const int MinSize = 16;
    public const int MaxSize = 1024;
    public const int MaxIdentities = 9999;
    public const long MaxImages = 10_000_000;

    /// <summary>--out: the face-set folder DIR (the truth goes to DIR.truth.json, the holdout to DIR.holdout).</summary>
    public required string OutDir { get; init; }
    /// <summary>--identities</summary>
    public int Identities { get; init; } = 8;
    /// <summary>--per-identity: images per identity in DIR, bad and hard ones included.</summary>
    public int PerIdentity { get; init; } = 60;
    /// <summary>--bad-fraction: share of all images that are planted bad, in [0, 1).</summary>
    public double BadFraction { get; init; } = 0.1;
    /// <summary>--seed</summary>
    public int Seed { get; init; } = 1;
    /// <summary>--size: side of the square images in pixels.</summary>
    public int Size { get; init; } = 64;
    /// <summary>--hard-fraction: share of all images that are hard (rare but valid) good faces, in [0, 1).</summary>
    public double HardFraction { get; init; } = 0.05;
    /// <summary>--holdout-per-identity: clean images per identity written to DIR.holdout.</summary>
    public int HoldoutPerIdentity { get; init; }
    /// <summary>--jpeg-fraction: probability that an image is written as JPEG (quality 95) instead of PNG, in [0, 1].</summary>
    public double JpegFraction { get; init; } = 0.2;
    /// <summary>--force: replace a face set this generator wrote before (only its own files are deleted).</summary>
    public bool Force { get; init; }
    /// <summary>Worker threads; null uses every core.</summary>
    public int? MaxParallelism { get; init; }

    /// <summary>round(identities × per-identity × bad-fraction), halves away from zero.</summary>
    public int BadCount => (int)Math.Round((long)Identities * PerIdentity * BadFraction, MidpointRounding.AwayFromZero);

    /// <summary>round(identities × per-identity × hard-fraction), halves away from zero.</summary>
    public int HardCount => (int)Math.Round((long)Identities * PerIdentity * HardFraction, MidpointRounding.AwayFromZero);

    /// <summary>Throws a <see cref="FaceClusterException"/> (<see cref="ExitCodes.UsageError"/>) naming the flag and value that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutDir)) Fail("--out is empty: give the folder to write the face set to");
        if (Identities < 1) Fail($"--identities {Identities} is invalid: need at least 1 identity");
        if (Identities > MaxIdentities) Fail($"--identities {Identities} is too many: at most {MaxIdentities}");
        if (PerIdentity < 1) Fail($"--per-identity {PerIdentity} is invalid: need at least 1 image per identity");
        if ((long)Identities * PerIdentity > MaxImages) Fail($"--identities {Identities} × --per-identity {PerIdentity} is more than {MaxImages} images");
        if (!(BadFraction >= 0 && BadFraction < 1)) Fail($"--bad-fraction {F(BadFraction)} is outside [0, 1)");
        if (!(HardFraction >= 0 && HardFraction < 1)) Fail($"--hard-fraction {F(HardFraction)} is outside [0, 1)");
        if (!(JpegFraction >= 0 && JpegFraction <= 1)) Fail($"--jpeg-fraction {F(JpegFraction)} is outside [0, 1]");
        if (Size < MinSize || Size > MaxSize) Fail($"--size {Size} is outside {MinSize}..{MaxSize} pixels");
        if (HoldoutPerIdentity < 0) Fail($"--holdout-per-identity {HoldoutPerIdentity} is negative");
        if ((long)Identities * HoldoutPerIdentity > MaxImages) Fail($"--identities {Identities} × --holdout-per-identity {HoldoutPerIdentity} is more than {MaxImages} images");
        if (MaxParallelism is < 1) Fail($"max parallelism {MaxParallelism} is invalid: need at least 1 thread");

        // Bad and hard images are spread so that no identity has more than ceil((bad + hard) / identities) of them.
        long notGood = (long)BadCount + HardCount;
        long worst = (notGood + Identities - 1) / Identities;
        if (PerIdentity - worst < MinGoodPerIdentity)
            Fail($"--per-identity {PerIdentity} with --bad-fraction {F(BadFraction)} and --hard-fraction {F(HardFraction)} " +
                 $"({BadCount} bad + {HardCount} hard over {Identities} identities) leaves some identity only {PerIdentity - worst} good images; " +
                 $"each identity needs at least {MinGoodPerIdentity}: raise --per-identity or lower the fractions");
    }

    private static string F(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static void Fail(string message) => throw new FaceClusterException(message, ExitCodes.UsageError);
}
