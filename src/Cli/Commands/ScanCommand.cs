using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FaceCluster.Cli.Commands;

/// <summary>
/// `facecluster scan --data DIR`: scans a face set (DIR/&lt;identity&gt;/&lt;images&gt;), writes or reuses
/// RUNDIR/manifest.json and prints the identities with image counts, every file it cannot use and why,
/// the identities left out, and what happened to the manifest. Exit 0 when the scan completed, rejects or not.
/// </summary>
internal static class ScanCommand
{
    public static Command Create()
    {
        var command = new Command("scan", "Scan a face set (DIR/<identity>/<images>): validate every image, split train/validation, and write RUNDIR/manifest.json.")
        {
            new Option<string>("--data") { Description = "Face-set folder: one sub-folder of images per identity.", Required = true },
            new Option<string?>("--run") { Description = "Run folder for manifest.json (default: ./runs/<name of the data folder>). Nothing is written into the data folder." },
            new Option<int>("--min-images") { Description = "Leave out identities with fewer usable images than this.", DefaultValueFactory = _ => ScanOptions.Default.MinImages },
            new Option<double>("--val-fraction") { Description = "Fraction of images held out for validation, chosen by content hash, in [0, 1).", DefaultValueFactory = _ => ScanOptions.Default.ValFraction },
            new Option<int>("--min-side") { Description = "Reject images whose width or height is below this many pixels.", DefaultValueFactory = _ => ScanOptions.Default.MinSide },
            TrainOptionsBinding.MaxMegapixels,
            new Option<bool>("--json") { Description = "Print the report as JSON." },
        };
        command.SetAction(Run);
        return command;
    }

    /// <summary>./runs/&lt;basename of the data folder&gt;.</summary>
    internal static string DefaultRunDir(string dataDir)
        => Path.Combine("runs", Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir))));

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        string data = parse.GetRequiredValue<string>("--data");
        string run = parse.GetValue<string?>("--run") ?? DefaultRunDir(data);
        var options = new ScanOptions(
            parse.GetValue<int>("--min-images"),
            parse.GetValue<double>("--val-fraction"),
            parse.GetValue<int>("--min-side"),
            parse.GetValue(TrainOptionsBinding.MaxMegapixels));
        options.Validate();

        var result = ManifestStore.LoadOrBuild(data, run, options);
        if (parse.GetValue<bool>("--json"))
            WriteJson(output, result);
        else if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected)
            WriteRich(output, result);
        else
            WritePlain(output, result);
        return 0;
    }

    internal static string DescribeManifest(ManifestLoadResult r)
    {
        var c = r.Changes;
        return r.Action switch
        {
            ManifestAction.Reused => "reused: nothing changed",
            ManifestAction.Updated => $"updated: {c.Added} added, {c.Removed} removed, {c.Changed} changed, {c.Touched} touched; {c.Hashed} file(s) hashed, {c.Reused} reused",
            _ => r.RebuildReason is null ? $"built: {c.Hashed} file(s) hashed" : $"rebuilt ({r.RebuildReason}): {c.Hashed} file(s) hashed",
        };
    }

    private static string Summary(ScanReport report)
        => $"{report.Identities.Count} identities used, {report.ExcludedIdentities.Count} left out; {report.Images} images ({report.TrainingImages} train, {report.ValidationImages} validation); {report.Rejected.Count} rejected";

    private static void WritePlain(TextWriter o, ManifestLoadResult result)
    {
        var report = result.Report;
        o.WriteLine($"Face set  {report.DataRoot}");
        o.WriteLine($"Manifest  {result.ManifestPath} ({DescribeManifest(result)})");
        o.WriteLine($"Summary   {Summary(report)}");
        o.WriteLine();
        WriteColumns(o, ["IDENTITY", "IMAGES", "VALIDATION"], [false, true, true],
            report.Identities.Select(i => new[] { i.Identity, Num(i.Images), Num(i.ValidationImages) }));
        foreach (var (title, rows) in Sections(report))
        {
            o.WriteLine();
            o.WriteLine(title);
            WriteColumns(o, null, new bool[rows.FirstOrDefault()?.Length ?? 0], rows, indent: "  ");
        }
    }

    private static void WriteRich(TextWriter o, ManifestLoadResult result)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(o) });
        var report = result.Report;
        console.WriteLine($"Face set  {report.DataRoot}");
        console.WriteLine($"Manifest  {result.ManifestPath} ({DescribeManifest(result)})");
        console.WriteLine($"Summary   {Summary(report)}");
        var table = new Table().AddColumn("Identity").AddColumn(new TableColumn("Images").RightAligned()).AddColumn(new TableColumn("Validation").RightAligned());
        foreach (var i in report.Identities)
            table.AddRow(new IRenderable[] { new Text(i.Identity), new Text(Num(i.Images)), new Text(Num(i.ValidationImages)) });
        console.Write(table);
        foreach (var (title, rows) in Sections(report))
        {
            console.WriteLine(title);
            var section = new Table().HideHeaders();
            for (int c = 0; c < rows[0].Length; c++) section.AddColumn(new TableColumn(""));
            foreach (var row in rows) section.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
            console.Write(section);
        }
    }

    /// <summary>The report's lists after the identity table, each with its rows; empty lists are left out.</summary>
    private static IEnumerable<(string Title, List<string[]> Rows)> Sections(ScanReport report)
    {
        if (report.Rejected.Count > 0)
            yield return ($"Rejected files ({report.Rejected.Count}):",
                report.Rejected.Select(r => new[] { r.RelativePath, r.Reason.ToString(), r.Detail }).ToList());
        if (report.ExcludedIdentities.Count > 0)
            yield return ($"Identities left out, fewer than {report.Options.MinImages} usable images ({report.ExcludedIdentities.Count}):",
                report.ExcludedIdentities.Select(e => new[] { e.Identity, $"{e.UsableImages} usable" }).ToList());
        if (report.OutsideFiles.Count > 0)
            yield return ($"Files outside identity folders, not used ({report.OutsideFiles.Count}):",
                report.OutsideFiles.Select(f => new[] { f }).ToList());
        if (report.IgnoredFiles.Count > 0)
            yield return ($"Files without an image extension, ignored ({report.IgnoredFiles.Count}):",
                report.IgnoredFiles.Select(f => new[] { f }).ToList());
        if (report.SkippedDirectories.Count > 0)
            yield return ($"Folders not scanned ({report.SkippedDirectories.Count}):",
                report.SkippedDirectories.Select(d => new[] { d.RelativePath, d.Reason }).ToList());
    }

    private static void WriteColumns(TextWriter o, string[]? header, bool[] rightAligned, IEnumerable<string[]> rows, string indent = "")
    {
        var all = (header is null ? [] : new List<string[]> { header }).Concat(rows).ToList();
        if (all.Count == 0) return;
        int columns = all.Max(r => r.Length);
        var widths = new int[columns];
        foreach (var row in all)
            for (int c = 0; c < row.Length; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        foreach (var row in all)
        {
            var cells = row.Select((cell, c) => c == row.Length - 1 && !(c < rightAligned.Length && rightAligned[c])
                ? cell
                : c < rightAligned.Length && rightAligned[c] ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
            o.WriteLine(indent + string.Join("  ", cells));
        }
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static void WriteJson(TextWriter o, ManifestLoadResult result)
    {
        var report = result.Report;
        var doc = new
        {
            dataRoot = report.DataRoot,
            manifest = new { path = result.ManifestPath, action = result.Action, rebuildReason = result.RebuildReason, changes = result.Changes, manifestHash = result.Manifest.ManifestHash },
            options = report.Options,
            images = report.Images,
            trainingImages = report.TrainingImages,
            validationImages = report.ValidationImages,
            identities = report.Identities,
            rejected = report.Rejected.Select(r => new { path = r.RelativePath, identity = r.Identity, reason = r.Reason, detail = r.Detail }),
            excludedIdentities = report.ExcludedIdentities.Select(e => new { identity = e.Identity, usableImages = e.UsableImages }),
            outsideFiles = report.OutsideFiles,
            ignoredFiles = report.IgnoredFiles,
            skippedDirectories = report.SkippedDirectories,
        };
        o.WriteLine(JsonSerializer.Serialize(doc, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };
}
