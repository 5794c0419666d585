using FaceCluster.Cli.Commands;
using FaceCluster.Cli.Demo;
using FaceCluster.Cli.Hosts;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Synth;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// `facecluster bench curation --real`: how well the ledger finds planted bad faces on every committed real face set
/// (tests/data, planted as `facecluster plant` does) and on the demo's generated set, each trained with the demo's
/// budget and settings. It prints precision, recall, recall per planted kind and the share of good faces quarantined,
/// and, with --ablation, the same with one signal taken out at a time (and the face prior, off by default, put in), so
/// the table shows what each signal adds.
/// </summary>
internal static class CurationQualityBench
{
    /// <summary>A policy variant of the ablation: its name and what it changes.</summary>
    internal sealed record Variant(string Name, Func<CurationPolicyOptions, CurationPolicyOptions> Apply);

    internal static IReadOnlyList<Variant> Ablations { get; } =
    [
        new("default", o => o),
        new("no texture", o => o with { DetectTexture = false }),
        new("with face prior", o => o with { FaceCheck = true }),
        new("with latent", o => o with { DetectLatent = true }),
        new("no trajectory", o => o with { DetectTrajectory = false }),
        new("no identity probe", o => o with { ProbeEveryCycles = 0 }),
        new("moving average only", o => o with { DetectTrajectory = false, DetectLatent = false, ProbeEveryCycles = 0, DetectTexture = false }),
    ];

    internal sealed record Settings(string OutDir, IReadOnlyList<string> RealSets, bool Generated, IReadOnlyList<Variant> Variants, int Seed, int Workers, int Cycles, int StepsPerCycle, long? WarmupSteps = null);

    /// <summary>The variants named in a comma-separated list ("default,no trajectory"; "all" for every one); throws naming an unknown one.</summary>
    internal static IReadOnlyList<Variant> ParseVariants(string text)
    {
        if (text.Trim() == "all") return Ablations;
        var chosen = new List<Variant>();
        foreach (string name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            chosen.Add(Ablations.FirstOrDefault(v => v.Name == name.Replace('-', ' '))
                ?? throw new FaceClusterException($"--variants: '{name}' is not a variant; use {string.Join(", ", Ablations.Select(v => v.Name.Replace(' ', '-')))} or all", ExitCodes.UsageError));
        return chosen.Count > 0 ? chosen : Ablations.Take(1).ToList();
    }

    internal sealed record Row(string Set, string Variant, DemoVerdict Verdict);

    public static int Run(Settings settings, TextWriter output, ILoggerFactory loggerFactory, CancellationToken cancel)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (string set in settings.RealSets)
            if (!Directory.Exists(set))
                throw new FaceClusterException($"bench curation --real: no face set at {Path.GetFullPath(set)} (the committed sets are tests/data/cmu-faces and tests/data/lfwcrop; run from the repository's root or pass --real-sets)", ExitCodes.UsageError);
        var sets = new List<(string Name, string DataDir, SynthTruth Truth)>();
        if (settings.Generated)
        {
            var synth = new SynthOptions { OutDir = Path.Combine(settings.OutDir, "generated"), Identities = 8, PerIdentity = 120, Seed = settings.Seed, Size = 64 };
            var truth = File.Exists(SynthTruth.PathFor(synth.OutDir)) ? SynthTruth.Load(SynthTruth.PathFor(synth.OutDir)) : SynthGenerator.Generate(synth).Truth;
            sets.Add(("generated", synth.OutDir, truth));
        }
        foreach (string set in settings.RealSets)
        {
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(set)));
            string dataDir = Path.Combine(settings.OutDir, "planted-" + name);
            sets.Add((name, dataDir, DemoCommand.ReuseOrPlant(set, dataDir, settings.Seed, output)));
        }
        var variants = settings.Variants;
        var rows = new List<Row>();
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", inv);
        foreach (var (name, dataDir, truth) in sets)
            foreach (var variant in variants)
            {
                var options = new TrainRunOptions
                {
                    DataDir = dataDir,
                    RunDir = Path.Combine(settings.OutDir, $"run-{stamp}-{name}-{variant.Name.Replace(' ', '-')}"),
                    Workers = settings.Workers, Cycles = settings.Cycles, StepsPerCycle = settings.StepsPerCycle, GlobalBatch = 32,
                    Seed = (ulong)settings.Seed, SsimWeight = 0.5, Curation = variant.Apply(settings.WarmupSteps is long warmup ? CurationPolicyOptions.Default with { WarmupSteps = warmup } : CurationPolicyOptions.Default),
                };
                options.Validate();
                output.WriteLine(string.Create(inv, $"{name}, {variant.Name}: {truth.Totals.Images} images, {truth.Totals.Bad} planted bad; {options.TotalSteps} steps, {options.Workers} workers, judged from step {options.Curation.WarmupSteps}"));
                var run = EmbeddedTrainingRun.RunAsync(options, new TrainProgress(TextWriter.Null, live: false), loggerFactory, cancel).GetAwaiter().GetResult();
                if (run.Stopped) { output.WriteLine($"stopped at step {run.Step}"); return ExitCodes.Interrupted; }
                using var ledger = LedgerEngine.OpenReadOnly(run.RunDir, loggerFactory);
                var verdict = DemoVerdict.Measure(ledger, truth);
                rows.Add(new Row(name, variant.Name, verdict));
                output.WriteLine($"  {verdict.Line}; {verdict.ByKindLine}");
            }
        Print(rows, output);
        return ExitCodes.Ok;
    }

    internal static void Print(IReadOnlyList<Row> rows, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        var kinds = SynthKinds.Bad.Select(k => k.WireName()).ToList();
        output.WriteLine();
        output.WriteLine("curation on planted faces (precision, recall, good faces quarantined; recall per planted kind)");
        output.WriteLine(string.Create(inv, $"  {"set",-12} {"signals",-20} {"prec.",5} {"recall",6} {"good q.",7}  {string.Join("  ", kinds.Select(k => Short(k).PadLeft(9)))}"));
        foreach (var r in rows)
        {
            var v = r.Verdict;
            string perKind = string.Join("  ", kinds.Select(k => v.ByKind.FirstOrDefault(x => x.Kind == k) is { Planted: > 0 } x ? $"{x.Found}/{x.Planted}".PadLeft(9) : "-".PadLeft(9)));
            output.WriteLine(string.Create(inv, $"  {r.Set,-12} {r.Variant,-20} {v.Precision,5:F2} {v.Recall,6:F2} {v.GoodQuarantinedFraction,7:P1}  {perKind}"));
        }
    }

    private static string Short(string kind) => kind switch
    {
        "blank-or-overexposed" => "blank",
        "wrong-identity" => "wrong-id",
        "not-a-face" => "not-face",
        "misaligned" => "misalign",
        _ => kind,
    };
}
