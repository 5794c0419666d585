namespace FaceCluster.Synth;

/// <summary>
/// Draws the traits of N identities so that they are clearly distinct: colours come from well-separated
/// palettes, and each identity is the candidate (out of many drawn) farthest from the identities already
/// chosen (greedy max–min in a weighted trait space), which spreads skin tone, hair colour and style apart.
/// </summary>
internal static class IdentityTraitSampler
{
    private const int CandidatesPerIdentity = 48;

    internal static readonly (string Name, RgbColour Colour)[] SkinTones =
    [
        ("very light", new(252, 224, 203)),
        ("light", new(240, 200, 168)),
        ("light olive", new(222, 185, 143)),
        ("medium", new(205, 158, 115)),
        ("tan", new(178, 126, 86)),
        ("brown", new(143, 94, 61)),
        ("dark brown", new(108, 69, 45)),
        ("deep brown", new(78, 50, 35)),
    ];

    internal static readonly (string Name, RgbColour Colour)[] HairColours =
    [
        ("black", new(24, 20, 20)),
        ("dark brown", new(60, 38, 25)),
        ("chestnut", new(115, 66, 35)),
        ("auburn", new(148, 52, 28)),
        ("ginger", new(204, 108, 46)),
        ("blond", new(228, 192, 112)),
        ("platinum", new(240, 234, 218)),
        ("grey", new(152, 150, 146)),
        ("blue-dyed", new(48, 86, 175)),
        ("pink-dyed", new(214, 92, 152)),
    ];

    private static readonly RgbColour[] IrisColours =
        [new(96, 58, 30), new(55, 32, 20), new(135, 105, 55), new(70, 128, 78), new(68, 122, 196), new(118, 128, 140)];

    private static readonly RgbColour[] LipTints = [new(190, 92, 100), new(160, 78, 72), new(205, 55, 75), new(150, 92, 112)];

    private static readonly RgbColour[] GlassesColours =
        [new(20, 20, 25), new(96, 56, 30), new(205, 168, 80), new(172, 176, 186), new(176, 30, 42)];

    private static readonly HairStyle[] Styles = Enum.GetValues<HairStyle>();

    public static IReadOnlyList<IdentityTraits> Sample(int seed, int count)
    {
        var rng = SynthSeeds.Create(seed, SynthSeeds.IdentityStream);
        var chosen = new List<IdentityTraits>(count);
        for (int i = 0; i < count; i++)
        {
            IdentityTraits best = Draw(rng);
            if (chosen.Count > 0)
            {
                double bestScore = MinDistance(best, chosen);
                for (int c = 1; c < CandidatesPerIdentity; c++)
                {
                    var candidate = Draw(rng);
                    double score = MinDistance(candidate, chosen);
                    if (score > bestScore) (best, bestScore) = (candidate, score);
                }
            }
            chosen.Add(best);
        }
        return chosen;
    }

    private static IdentityTraits Draw(Random rng)
    {
        var skin = rng.Pick(SkinTones);
        var hair = rng.Pick(HairColours);
        var style = rng.Pick(Styles);
        // Grey and platinum hair on a young-looking face is fine here; the point is distinct silhouettes and colours.
        var facialHair = rng.Chance(0.65) ? FacialHair.None : rng.Pick([FacialHair.Stubble, FacialHair.Moustache, FacialHair.Goatee, FacialHair.FullBeard]);
        RgbColour? glasses = rng.Chance(0.3) ? rng.Pick(GlassesColours) : null;
        var lip = skin.Colour.Mix(rng.Pick(LipTints), rng.Uniform(0.45, 0.75));
        return new IdentityTraits
        {
            FaceHalfWidth = R(rng.Uniform(0.25, 0.31)),
            LowerFaceLength = R(rng.Uniform(0.36, 0.43)),
            JawWidth = R(rng.Uniform(0.70, 0.95)),
            ChinSquareness = R(rng.Uniform(2.0, 3.4)),
            SkinTone = skin.Colour,
            SkinToneName = skin.Name,
            EyeHalfSpacing = R(rng.Uniform(0.105, 0.135)),
            EyeHalfWidth = R(rng.Uniform(0.046, 0.062)),
            EyeRoundness = R(rng.Uniform(0.42, 0.62)),
            EyeTilt = R(rng.Uniform(-6, 8)),
            IrisColour = rng.Pick(IrisColours),
            BrowThickness = R(rng.Uniform(0.010, 0.024)),
            BrowAngle = R(rng.Uniform(-14, 14)),
            BrowHeight = R(rng.Uniform(0.05, 0.075)),
            NoseLength = R(rng.Uniform(0.14, 0.19)),
            NoseHalfWidth = R(rng.Uniform(0.028, 0.046)),
            MouthHalfWidth = R(rng.Uniform(0.068, 0.105)),
            LipThickness = R(rng.Uniform(0.010, 0.024)),
            LipColour = lip,
            HairColour = hair.Colour,
            HairColourName = hair.Name,
            HairStyle = style,
            ForeheadHeight = R(rng.Uniform(0.17, 0.23)),
            FacialHair = facialHair,
            GlassesColour = glasses,
            DetailSeed = rng.Next(),
        };
    }

    private static double MinDistance(IdentityTraits candidate, List<IdentityTraits> chosen)
    {
        double min = double.MaxValue;
        foreach (var other in chosen) min = Math.Min(min, Distance(candidate, other));
        return min;
    }

    /// <summary>How different two identities look: colours and silhouette dominate, geometry adds a little.</summary>
    internal static double Distance(IdentityTraits a, IdentityTraits b)
    {
        double d = 0;
        d += 3.0 * Math.Abs(a.SkinTone.Luma - b.SkinTone.Luma) / 0.7;
        d += 2.0 * ColourDistance(a.HairColour, b.HairColour);
        if (a.HairStyle != b.HairStyle) d += 1.6;
        if ((a.GlassesColour is null) != (b.GlassesColour is null)) d += 0.8;
        if (a.FacialHair != b.FacialHair) d += a.FacialHair == FacialHair.None || b.FacialHair == FacialHair.None ? 0.6 : 0.3;
        d += 0.25 * (Norm(a.FaceHalfWidth, b.FaceHalfWidth, 0.06) + Norm(a.LowerFaceLength, b.LowerFaceLength, 0.07)
                     + Norm(a.JawWidth, b.JawWidth, 0.25) + Norm(a.ChinSquareness, b.ChinSquareness, 1.4)
                     + Norm(a.EyeHalfSpacing, b.EyeHalfSpacing, 0.03) + Norm(a.EyeHalfWidth, b.EyeHalfWidth, 0.016)
                     + Norm(a.BrowThickness, b.BrowThickness, 0.014) + Norm(a.BrowAngle, b.BrowAngle, 28)
                     + Norm(a.NoseLength, b.NoseLength, 0.05) + Norm(a.MouthHalfWidth, b.MouthHalfWidth, 0.037)
                     + Norm(a.ForeheadHeight, b.ForeheadHeight, 0.06));
        d += 0.5 * ColourDistance(a.IrisColour, b.IrisColour);
        return d;
    }

    private static double Norm(double a, double b, double range) => Math.Abs(a - b) / range;

    private static double ColourDistance(RgbColour a, RgbColour b)
    {
        double dr = a.R - b.R, dg = a.G - b.G, db = a.B - b.B;
        return Math.Sqrt(dr * dr + dg * dg + db * db) / 441.7;
    }

    private static double R(double v) => Math.Round(v, 4);
}
