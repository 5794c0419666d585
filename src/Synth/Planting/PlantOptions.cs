namespace FaceCluster.Synth.Planting;

/// <summary>Where occluders go: a face found by OpenCV's Haar cascade, or a fixed box in the middle of the image.</summary>
public enum FaceBoxMode { Haar, Centre }

/// <summary>What `facecluster plant` copies, where to, and what it plants.</summary>
public sealed record PlantOptions
{
    /// <summary>A real face folder, DIR/&lt;identity&gt;/&lt;images&gt;. It is only read.</summary>
    public required string SourceDir { get; init; }
    /// <summary>The copy with planted faces; the truth goes beside it as OUT.truth.json.</summary>
    public required string OutDir { get; init; }
    /// <summary>Share of the images replaced by planted bad ones, in (0, 0.5].</summary>
    public double Fraction { get; init; } = 0.1;
    public int Seed { get; init; } = 1;
    /// <summary>The bad kinds to plant, in equal numbers.</summary>
    public IReadOnlyList<SynthKind> Kinds { get; init; } = SynthKinds.Bad;
    public FaceBoxMode FaceBox { get; init; } = FaceBoxMode.Haar;
    /// <summary>Folder of OpenCV's Haar cascades (Debian's opencv-data).</summary>
    public string CascadeDir { get; init; } = DefaultCascadeDir;
    /// <summary>Replace a copy that plant made before (only the files its truth lists are deleted).</summary>
    public bool Force { get; init; }

    public const string DefaultCascadeDir = Common.FaceSet.FaceCheck.FaceStructureChecker.DefaultCascadeDir;

    public void Validate()
    {
        if (!(Fraction is > 0 and <= 0.5))
            throw new FaceClusterException(string.Create(CultureInfo.InvariantCulture, $"--fraction {Fraction} is invalid: it must be in (0, 0.5]"), ExitCodes.UsageError);
        if (Kinds.Count == 0 || Kinds.Any(k => !k.IsBad()))
            throw new FaceClusterException($"--kinds must name one or more of: {string.Join(", ", SynthKinds.Bad.Select(k => k.WireName()))}", ExitCodes.UsageError);
        string source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(SourceDir));
        string output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(OutDir));
        if (!Directory.Exists(source))
            throw new FaceClusterException($"--faces {SourceDir}: no such folder (expected DIR/<identity>/<images>)", ExitCodes.UsageError);
        if (output == source || output.StartsWith(source + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || source.StartsWith(output + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new FaceClusterException($"--out {OutDir} and --faces {SourceDir} overlap; plant never writes into the folder it copies", ExitCodes.UsageError);
    }

    /// <summary>Parses "misaligned,occluded" (or "all") into kinds; throws naming the unknown one.</summary>
    public static IReadOnlyList<SynthKind> ParseKinds(string text)
    {
        if (text.Trim() is "all" or "") return SynthKinds.Bad;
        var kinds = new List<SynthKind>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kind = SynthKinds.Bad.FirstOrDefault(k => k.WireName() == part.ToLowerInvariant(), SynthKind.Good);
            if (kind == SynthKind.Good)
                throw new FaceClusterException($"--kinds: '{part}' is not a bad kind; use one or more of: {string.Join(", ", SynthKinds.Bad.Select(k => k.WireName()))}", ExitCodes.UsageError);
            if (!kinds.Contains(kind)) kinds.Add(kind);
        }
        return kinds;
    }
}
