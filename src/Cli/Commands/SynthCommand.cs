using FaceCluster.Synth;

namespace FaceCluster.Cli.Commands;

/// <summary>`facecluster synth`: a procedural face set with planted bad faces and its truth file.</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        return CliCommands.Define("synth", "Generate a procedural face set with planted bad faces (not-a-face, wrong identity, misaligned, occluded, blank or overexposed) and hard but valid faces, with the truth beside it.",
            Run,
            new Option<string>("--out") { Description = "Folder to write the face set to (DIR). The truth goes to DIR.truth.json and holdout images to DIR.holdout, beside it.", Required = true },
            new Option<int>("--identities") { Description = "Number of identities.", DefaultValueFactory = _ => 8 },
            new Option<int>("--per-identity") { Description = "Images per identity, bad and hard ones included.", DefaultValueFactory = _ => 60 },
            new Option<double>("--bad-fraction") { Description = "Share of all images that are planted bad ones, in [0, 1).", DefaultValueFactory = _ => 0.1 },
            new Option<int>("--seed") { Description = "Seed: the same arguments give byte-identical files.", DefaultValueFactory = _ => 1 },
            new Option<int>("--size") { Description = "Image side in pixels (16..1024).", DefaultValueFactory = _ => 64 },
            new Option<double>("--hard-fraction") { Description = "Share of all images that are hard but valid faces (strong side light, largest pose, unusual expression), in [0, 1).", DefaultValueFactory = _ => 0.05 },
            new Option<int>("--holdout-per-identity") { Description = "Clean images per identity written to DIR.holdout (a held-out validation set).", DefaultValueFactory = _ => 0 },
            new Option<double>("--jpeg-fraction") { Description = "Share of images written as JPEG (quality 95) rather than PNG, in [0, 1].", DefaultValueFactory = _ => 0.2 },
            new Option<bool>("--force") { Description = "Replace a face set synth wrote before; deletes only the files its truth file lists." },
            new Option<string?>("--contact-sheet") { Description = "Also write a PNG grid of samples there: good images per identity, then hard ones and each bad kind." });
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var options = new SynthOptions
        {
            OutDir = parse.GetValue<string>("--out")!,
            Identities = parse.GetValue<int>("--identities"),
            PerIdentity = parse.GetValue<int>("--per-identity"),
            BadFraction = parse.GetValue<double>("--bad-fraction"),
            Seed = parse.GetValue<int>("--seed"),
            Size = parse.GetValue<int>("--size"),
            HardFraction = parse.GetValue<double>("--hard-fraction"),
            HoldoutPerIdentity = parse.GetValue<int>("--holdout-per-identity"),
            JpegFraction = parse.GetValue<double>("--jpeg-fraction"),
            Force = parse.GetValue<bool>("--force"),
        };
        options.Validate();
        string? sheet = parse.GetValue<string?>("--contact-sheet");
        if (sheet is not null) SynthContactSheet.CheckOutputPath(sheet, options.OutDir);

        var result = SynthGenerator.Generate(options);
        var totals = result.Truth.Totals;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"synth: {options.Identities} identities × {options.PerIdentity} images = {totals.Images} images at {options.Size} px (seed {options.Seed}) in {result.DataDir}"));
        string badKinds = string.Join(", ", SynthKinds.Bad.Select(k => $"{k.WireName()} {totals.ByKind[k.WireName()]}"));
        output.WriteLine(string.Create(inv, $"  good {totals.Good}, hard {totals.Hard}, bad {totals.Bad}: {badKinds}"));
        if (result.HoldoutDir is not null)
            output.WriteLine(string.Create(inv, $"  holdout: {totals.Holdout} clean images in {result.HoldoutDir}"));
        if (result.ReplacedFiles > 0)
            output.WriteLine(string.Create(inv, $"  replaced: deleted {result.ReplacedFiles} files of the earlier generation"));
        output.WriteLine($"  truth: {result.TruthPath}");
        if (sheet is not null)
        {
            SynthContactSheet.Write(result.Truth, result.DataDir, sheet);
            output.WriteLine($"  contact sheet: {Path.GetFullPath(sheet)}");
        }
        output.WriteLine(string.Create(inv, $"  took {result.Elapsed.TotalSeconds:0.00} s"));
        return ExitCodes.Ok;
    }
}
