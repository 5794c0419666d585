using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceCluster.Synth;

/// <summary>
/// The planted truth of a synthetic face set, stored beside the set as DIR.truth.json (never inside DIR, so a
/// trainer reading DIR cannot see it). It lists every generated file with its identity and kind, the
/// identities' traits, the generation parameters and totals. Read it with <see cref="Load"/>.
/// </summary>
public sealed record SynthTruth
{
    /// <summary>The <see cref="Generator"/> value of the truth files `facecluster synth` writes.</summary>
    public const string GeneratorName = "facecluster-synth";

    /// <summary>The <see cref="Generator"/> value of the truth files `facecluster plant` writes (a real face folder with planted bad faces).</summary>
    public const string PlantGeneratorName = "facecluster-plant";

    /// <summary>Bumped whenever the same parameters would draw different images or the file layout changes.</summary>
    public const int CurrentVersion = 1;

    public required string Generator { get; init; }
    public required int GeneratorVersion { get; init; }
    /// <summary>False while generation is running (the file is written first so that --force can clean up after a crash).</summary>
    public required bool Complete { get; init; }
    public required int Seed { get; init; }
    public required SynthParameters Parameters { get; init; }
    public required IReadOnlyList<SynthIdentity> Identities { get; init; }
    /// <summary>Every file in the face-set folder, paths relative to it.</summary>
    public required IReadOnlyList<SynthFileEntry> Files { get; init; }
    /// <summary>Every file in the holdout folder (all clean, kind good), paths relative to the holdout folder.</summary>
    public required IReadOnlyList<SynthFileEntry> Holdout { get; init; }
    public required SynthTotals Totals { get; init; }
    /// <summary>For `facecluster plant`: the folder the faces were copied from and how bad ones were planted; null for synth.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Planting.PlantParameters? Plant { get; init; }

    /// <summary>The planted bad files.</summary>
    [JsonIgnore]
    public IEnumerable<SynthFileEntry> BadFiles => Files.Where(f => f.IsBad);

    /// <summary>The entries of <see cref="Files"/> keyed by relative path ('/' separators).</summary>
    public IReadOnlyDictionary<string, SynthFileEntry> FilesByPath() => Files.ToDictionary(f => f.Path, StringComparer.Ordinal);

    /// <summary>DIR.truth.json for a face-set folder DIR.</summary>
    public static string PathFor(string dataDir) => NormalizeDir(dataDir) + ".truth.json";

    /// <summary>DIR.holdout for a face-set folder DIR.</summary>
    public static string HoldoutDirFor(string dataDir) => NormalizeDir(dataDir) + ".holdout";

    /// <summary>The face-set folder DIR for a truth file DIR.truth.json.</summary>
    public static string DataDirFor(string truthPath)
    {
        string full = Path.GetFullPath(truthPath);
        const string suffix = ".truth.json";
        if (!full.EndsWith(suffix, StringComparison.Ordinal))
            throw new FaceClusterException($"{truthPath}: a synth truth file's name ends with {suffix}", ExitCodes.UsageError);
        return full[..^suffix.Length];
    }

    /// <summary>
    /// Reads and checks a finished truth file. Throws <see cref="FaceClusterException"/> naming the file when it is
    /// missing, unreadable, not a synth truth file, from a newer generator, or from a generation that did not finish.
    /// </summary>
    public static SynthTruth Load(string path)
    {
        var truth = Read(path);
        if (!truth.Complete)
            throw new FaceClusterException($"{path}: the generation that wrote this face set did not finish; run `facecluster synth ... --force` again");
        return truth;
    }

    /// <summary>Reads a truth file, finished or not (the generator's clean-up needs unfinished ones too).</summary>
    internal static SynthTruth Read(string path)
    {
        if (!File.Exists(path))
            throw new FaceClusterException($"{path}: no synth truth file there");
        SynthTruth? truth;
        try
        {
            using var stream = File.OpenRead(path);
            truth = JsonSerializer.Deserialize<SynthTruth>(stream, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new FaceClusterException($"{path}: not a valid synth truth file ({e.Message})", ExitCodes.UserError, e);
        }
        if (truth is null || (truth.Generator != GeneratorName && truth.Generator != PlantGeneratorName))
            throw new FaceClusterException($"{path}: not a synth truth file (generator is neither '{GeneratorName}' nor '{PlantGeneratorName}')");
        if (truth.GeneratorVersion > CurrentVersion)
            throw new FaceClusterException($"{path}: written by synth generator version {truth.GeneratorVersion}, this build reads up to {CurrentVersion}", ExitCodes.VersionMismatch);
        foreach (var entry in truth.Files.Concat(truth.Holdout))
            if (!IsSafeRelativePath(entry.Path))
                throw new FaceClusterException($"{path}: entry '{entry.Path}' is not a plain relative path inside the face set");
        return truth;
    }

    /// <summary>Writes the file atomically (temporary file, then rename).</summary>
    internal void Save(string path)
    {
        string temp = path + ".tmp";
        using (var stream = File.Create(temp))
            JsonSerializer.Serialize(stream, this, JsonOptions);
        File.Move(temp, path, overwrite: true);
    }

    internal static bool IsSafeRelativePath(string relative) =>
        relative.Length > 0 && !relative.StartsWith('/') && !relative.Contains('\\') && !relative.Contains(':')
        && relative.Split('/').All(part => part.Length > 0 && part != "." && part != "..");

    private static string NormalizeDir(string dir) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
