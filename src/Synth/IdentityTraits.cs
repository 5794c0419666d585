namespace FaceCluster.Synth;

/// <summary>
/// The fixed look of one synthetic identity. Lengths are fractions of the image side (the face is drawn in an
/// aligned crop whose eye line sits at 45 % of the height); angles are in degrees. Every image of the identity
/// is drawn from these traits plus per-image pose, lighting and expression.
/// </summary>
public sealed record IdentityTraits
{
    /// <summary>Half the face width at the cheekbones.</summary>
    public required double FaceHalfWidth { get; init; }
    /// <summary>Eye line to chin.</summary>
    public required double LowerFaceLength { get; init; }
    /// <summary>Jaw width at mouth level relative to the cheekbones (0.7 narrow .. 0.95 wide).</summary>
    public required double JawWidth { get; init; }
    /// <summary>Superellipse exponent of the chin (2 round .. 3.4 square).</summary>
    public required double ChinSquareness { get; init; }
    public required RgbColour SkinTone { get; init; }
    public required string SkinToneName { get; init; }
    /// <summary>Half the distance between the eye centres.</summary>
    public required double EyeHalfSpacing { get; init; }
    /// <summary>Half the width of one eye.</summary>
    public required double EyeHalfWidth { get; init; }
    /// <summary>Eye height relative to its width.</summary>
    public required double EyeRoundness { get; init; }
    /// <summary>Tilt of the eyes, outer corner up, in degrees.</summary>
    public required double EyeTilt { get; init; }
    public required RgbColour IrisColour { get; init; }
    public required double BrowThickness { get; init; }
    /// <summary>Brow tilt in degrees: positive raises the inner end (worried), negative lowers it (stern).</summary>
    public required double BrowAngle { get; init; }
    /// <summary>Gap between the eye line and the brows.</summary>
    public required double BrowHeight { get; init; }
    /// <summary>Eye line to the base of the nose.</summary>
    public required double NoseLength { get; init; }
    /// <summary>Half the width of the nostrils.</summary>
    public required double NoseHalfWidth { get; init; }
    /// <summary>Half the width of the mouth.</summary>
    public required double MouthHalfWidth { get; init; }
    public required double LipThickness { get; init; }
    public required RgbColour LipColour { get; init; }
    public required RgbColour HairColour { get; init; }
    public required string HairColourName { get; init; }
    public required HairStyle HairStyle { get; init; }
    /// <summary>Distance from the eye line up to the hairline.</summary>
    public required double ForeheadHeight { get; init; }
    public required FacialHair FacialHair { get; init; }
    /// <summary>Glasses frame colour, or null for no glasses.</summary>
    public required RgbColour? GlassesColour { get; init; }
    /// <summary>Seed of the identity's fixed small details (curl positions, hair strands).</summary>
    public required int DetailSeed { get; init; }

    /// <summary>A short human description, e.g. "light skin, black fringe hair, round face, glasses".</summary>
    public string Describe()
    {
        var parts = new List<string>
        {
            $"{SkinToneName} skin",
            HairStyle == HairStyle.Bald ? $"bald ({HairColourName} sides)" : $"{HairColourName} {HairStyleName(HairStyle)} hair",
            ChinSquareness > 2.8 ? "square jaw" : JawWidth < 0.78 ? "narrow jaw" : "oval face",
        };
        if (FacialHair != FacialHair.None) parts.Add(FacialHair switch
        {
            FacialHair.Stubble => "stubble",
            FacialHair.Moustache => "moustache",
            FacialHair.Goatee => "goatee",
            _ => "full beard",
        });
        if (GlassesColour is not null) parts.Add("glasses");
        return string.Join(", ", parts);
    }

    private static string HairStyleName(HairStyle style) => style switch
    {
        HairStyle.ShortCap => "short",
        HairStyle.Fringe => "fringe",
        HairStyle.SidePart => "side-parted",
        HairStyle.LongSides => "long",
        HairStyle.Curly => "curly",
        HairStyle.Buzz => "buzz-cut",
        _ => "no",
    };
}
