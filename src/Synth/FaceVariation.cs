namespace FaceCluster.Synth;

/// <summary>
/// What changes from one image of an identity to the next: head pose, expression, lighting, camera noise, and
/// (for bad crops) the crop transform. Angles in degrees; the crop shift is a fraction of the image side.
/// </summary>
internal sealed record FaceVariation
{
    public double Yaw { get; init; }
    public double Pitch { get; init; }
    public double Roll { get; init; }
    /// <summary>-1 frown .. 0 neutral .. 1 broad smile.</summary>
    public double Smile { get; init; }
    /// <summary>0 closed .. 1 wide open.</summary>
    public double MouthOpen { get; init; }
    public double LeftEyeOpen { get; init; } = 1;
    public double RightEyeOpen { get; init; } = 1;
    /// <summary>Brows raised (positive) or lowered (negative), in units of about 2 % of the image.</summary>
    public double BrowRaise { get; init; }
    /// <summary>Extra degrees that pull the inner brow ends down (a frown).</summary>
    public double BrowFrown { get; init; }
    public double GazeX { get; init; }
    public double GazeY { get; init; }
    /// <summary>Strength of the directional light gradient (0 flat .. 0.9 one side nearly black).</summary>
    public double LightStrength { get; init; }
    /// <summary>Direction the light comes from, degrees (0 = from the right, 90 = from below).</summary>
    public double LightAngle { get; init; }
    public double Brightness { get; init; } = 1;
    public double GainR { get; init; } = 1;
    public double GainG { get; init; } = 1;
    public double GainB { get; init; } = 1;
    /// <summary>Standard deviation of the added sensor noise, in 0..255 units.</summary>
    public double NoiseSigma { get; init; }
    /// <summary>Gaussian blur sigma in output pixels (0 = none).</summary>
    public double BlurSigma { get; init; }
    public double CropScale { get; init; } = 1;
    public double CropRotation { get; init; }
    public double CropShiftX { get; init; }
    public double CropShiftY { get; init; }
    public RgbColour ShirtColour { get; init; } = new(90, 90, 110);

    private static readonly RgbColour[] Shirts =
    [
        new(40, 40, 48), new(220, 220, 225), new(70, 90, 140), new(140, 40, 40), new(60, 110, 70),
        new(200, 170, 110), new(110, 80, 140), new(150, 150, 150), new(30, 60, 90), new(210, 120, 60),
    ];

    /// <summary>An ordinary image: small pose, mild expression and lighting changes.</summary>
    public static FaceVariation SampleGood(Random rng)
    {
        double eyes = rng.Uniform(0.8, 1.05);
        return new FaceVariation
        {
            Yaw = rng.Uniform(-10, 10),
            Pitch = rng.Uniform(-7, 7),
            Roll = rng.Uniform(-8, 8),
            Smile = rng.Uniform(-0.15, 0.7),
            MouthOpen = rng.Chance(0.12) ? rng.Uniform(0.1, 0.3) : 0,
            LeftEyeOpen = eyes + rng.Uniform(-0.04, 0.04),
            RightEyeOpen = eyes + rng.Uniform(-0.04, 0.04),
            BrowRaise = rng.Uniform(-0.2, 0.4),
            GazeX = rng.Uniform(-0.5, 0.5),
            GazeY = rng.Uniform(-0.3, 0.3),
            LightStrength = rng.Uniform(0, 0.28),
            LightAngle = rng.Uniform(0, 360),
            Brightness = rng.Uniform(0.86, 1.12),
            GainR = rng.Uniform(0.95, 1.05),
            GainG = rng.Uniform(0.96, 1.04),
            GainB = rng.Uniform(0.95, 1.05),
            NoiseSigma = rng.Uniform(1.0, 4.0),
            BlurSigma = rng.Chance(0.5) ? rng.Uniform(0.3, 0.75) : 0,
            ShirtColour = rng.Pick(Shirts),
        };
    }

    /// <summary>A rare but legitimate image: strong side light, the largest pose, or an unusual expression.</summary>
    public static FaceVariation SampleHard(Random rng, out string detail)
    {
        var v = SampleGood(rng);
        switch (rng.Next(3))
        {
            case 0:
            {
                bool fromLeft = rng.Next(2) == 0;
                detail = $"strong side light from the {(fromLeft ? "left" : "right")}";
                return v with { LightStrength = rng.Uniform(0.72, 0.88), LightAngle = (fromLeft ? 180 : 0) + rng.Uniform(-15, 15), Brightness = rng.Uniform(0.95, 1.1) };
            }
            case 1:
                if (rng.Next(2) == 0)
                {
                    double yaw = rng.SignedUniform(22, 30);
                    detail = $"head turned, yaw {yaw:0}°";
                    return v with { Yaw = yaw, Pitch = rng.Uniform(-4, 4) };
                }
                else
                {
                    double pitch = rng.SignedUniform(14, 20);
                    detail = $"head tilted {(pitch > 0 ? "up" : "down")}, pitch {pitch:0}°";
                    return v with { Pitch = pitch, Yaw = rng.Uniform(-5, 5) };
                }
            default:
                switch (rng.Next(4))
                {
                    case 0:
                        bool left = rng.Next(2) == 0;
                        detail = $"winking ({(left ? "left" : "right")} eye closed)";
                        return left ? v with { LeftEyeOpen = 0.05, Smile = rng.Uniform(0.4, 0.8) } : v with { RightEyeOpen = 0.05, Smile = rng.Uniform(0.4, 0.8) };
                    case 1:
                        detail = "laughing, mouth wide open";
                        return v with { Smile = rng.Uniform(0.9, 1.0), MouthOpen = rng.Uniform(0.75, 1.0), LeftEyeOpen = 0.55, RightEyeOpen = 0.55, BrowRaise = 0.5 };
                    case 2:
                        detail = "surprised, brows up and mouth open";
                        return v with { Smile = 0, MouthOpen = rng.Uniform(0.6, 0.85), LeftEyeOpen = 1.25, RightEyeOpen = 1.25, BrowRaise = 1.3 };
                    default:
                        detail = "frowning";
                        return v with { Smile = -1, BrowFrown = rng.Uniform(14, 20), BrowRaise = -0.6, MouthOpen = 0 };
                }
        }
    }
}
