using FaceCluster.Synth;
using FaceCluster.Synth.Planting;

namespace FaceCluster.Cli.Commands;

/// <summary>`facecluster plant`: a copy of a real face folder with planted bad faces and the truth beside it.</summary>
internal static class PlantCommand
{
    private static readonly Option<string> Faces = new("--faces") { Description = "A real face folder, DIR/<identity>/<images>. It is only read.", Required = true };
    private static readonly Option<string> Out = new("--out") { Description = "Folder for the copy (OUT). The truth goes beside it, to OUT.truth.json.", Required = true };
    private static readonly Option<double> Fraction = new("--fraction") { Description = "Share of the images replaced by planted bad faces, in (0, 0.5].", DefaultValueFactory = _ => 0.1 };
    private static readonly Option<int> Seed = new("--seed") { Description = "Seed: the same folder and arguments give the same copy.", DefaultValueFactory = _ => 1 };
    private static readonly Option<string> Kinds = new("--kinds")
    {
        Description = "Comma-separated bad kinds to plant in equal numbers, or 'all': not-a-face, wrong-identity, misaligned, occluded, blank-or-overexposed.",
        DefaultValueFactory = _ => "all",
    };
    private static readonly Option<string> FaceBox = new("--face-box")
    {
        Description = "Where occluders and crops go: 'haar' finds the face with OpenCV's Haar cascade (Debian's opencv-data; an identity's median box where it finds none), 'centre' uses the middle of the image.",
        DefaultValueFactory = _ => "haar",
    };
    private static readonly Option<string> CascadeDir = new("--cascade-dir") { Description = "Folder of OpenCV's Haar cascades.", DefaultValueFactory = _ => PlantOptions.DefaultCascadeDir };
    private static readonly Option<bool> Force = new("--force") { Description = "Replace a copy that plant wrote before; deletes only the files its truth file lists." };

    public static Command Create() =>
        CliCommands.Define("plant", "Copy a real face folder and plant bad faces in it (misaligned, occluded, not a face, wrong identity, blank or over-exposed), with the truth beside the copy, so that curation can be measured on real faces.",
            Run, Faces, Out, Fraction, Seed, Kinds, FaceBox, CascadeDir, Force);

    internal static PlantOptions ReadOptions(ParseResult parse, string faces, string outDir) => new()
    {
        SourceDir = faces,
        OutDir = outDir,
        Fraction = parse.GetValue(Fraction),
        Seed = parse.GetValue(Seed),
        Kinds = PlantOptions.ParseKinds(parse.GetValue(Kinds)!),
        FaceBox = ParseFaceBox(parse.GetValue(FaceBox)!),
        CascadeDir = parse.GetValue(CascadeDir)!,
        Force = parse.GetValue(Force),
    };

    internal static FaceBoxMode ParseFaceBox(string text) => text.ToLowerInvariant() switch
    {
        "haar" => FaceBoxMode.Haar,
        "centre" or "center" => FaceBoxMode.Centre,
        _ => throw new FaceClusterException($"--face-box '{text}' is invalid: use haar or centre", ExitCodes.UsageError),
    };

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var options = ReadOptions(parse, parse.GetValue(Faces)!, parse.GetValue(Out)!);
        using var loggerFactory = CliLogging.Create(parse);
        var result = FacePlanter.Plant(options, loggerFactory.CreateLogger("plant"));
        Report(result, output);
        return ExitCodes.Ok;
    }

    internal static void Report(PlantResult result, TextWriter output)
    {
        var totals = result.Truth.Totals;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"plant: {totals.Images} images of {result.Truth.Identities.Count} identities from {result.Truth.Plant!.Source} copied to {result.DataDir}"));
        string kinds = string.Join(", ", SynthKinds.Bad.Where(k => totals.ByKind[k.WireName()] > 0).Select(k => $"{k.WireName()} {totals.ByKind[k.WireName()]}"));
        output.WriteLine(string.Create(inv, $"  planted {totals.Bad} bad ({(double)totals.Bad / Math.Max(1, totals.Images):P1}): {kinds}"));
        int moved = totals.ByKind[SynthKind.WrongIdentity.WireName()];
        if (moved > 0)
            output.WriteLine(string.Create(inv, $"  wrong-identity faces are moved, not copied: their {moved} photos are only under the wrong name"));
        output.WriteLine(string.Create(inv, $"  face boxes: {result.Truth.Plant.FaceBox}{(result.Truth.Plant.FaceBox == "haar" ? $", found in {result.FacesFound} of {totals.Images} images" : "")}"));
        foreach (var u in result.Unreadable) output.WriteLine($"  left out (unreadable): {u}");
        if (result.ReplacedFiles > 0) output.WriteLine(string.Create(inv, $"  replaced: deleted {result.ReplacedFiles} files of the earlier copy"));
        output.WriteLine($"  truth: {result.TruthPath}");
    }
}
