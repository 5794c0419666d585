using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Cli.Demo;
using FaceCluster.Cli.Hosts;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Synth;
using FaceCluster.Synth.Planting;

namespace FaceCluster.Cli.Commands;

/// <summary>
/// `facecluster demo`: the README's main job. It generates a face set with planted bad faces, trains the tiny
/// autoencoder on it with an embedded coordinator, 2 local workers and the ledger in auto mode, then prints the
/// ledger's worst faces and a verdict measured against the planted truth.
/// </summary>
internal static class DemoCommand
{
    private static readonly Option<string> Out = new("--out") { Description = "Folder for the demo's face set and runs.", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
    private static readonly Option<int> Workers = new("--workers") { Description = "Local CPU workers.", DefaultValueFactory = _ => 2 };
    private static readonly Option<int> Cycles = new("--cycles") { Description = "Cycles to train.", DefaultValueFactory = _ => 60 };
    private static readonly Option<int> StepsPerCycle = new("--steps-per-cycle") { Description = "Steps per cycle.", DefaultValueFactory = _ => 40 };
    private static readonly Option<int> Batch = new("--batch") { Description = "Global batch per step.", DefaultValueFactory = _ => 32 };
    private static readonly Option<int> Identities = new("--identities") { Description = "Identities in the generated face set.", DefaultValueFactory = _ => 8 };
    private static readonly Option<int> PerIdentity = new("--per-identity") { Description = "Images per identity (10% of all are planted bad ones). With fewer, the tiny decoder memorises the mild bad faces before the ledger can judge them.", DefaultValueFactory = _ => 120 };
    private static readonly Option<double> SsimWeight = new("--ssim-weight")
    {
        Description = "Weight of the (1-SSIM)/2 term in the per-sample loss. SSIM compares local structure, so a hand over the mouth or a bad crop stays costly after the decoder has learnt the face's colours.",
        DefaultValueFactory = _ => 0.5,
    };
    private static readonly Option<int> Seed = new("--seed") { Description = "Seed of the face set and of training.", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> Worst = new("--worst") { Description = "Worst faces to list.", DefaultValueFactory = _ => 15 };
    private static readonly Option<long?> WarmupSteps = new("--warmup-steps") { Description = $"Steps before the ledger judges any face (default {CurationPolicyOptions.Default.WarmupSteps})." };
    private static readonly Option<string?> Faces = new("--faces")
    {
        Description = "Run the demo on a real face folder (DIR/<identity>/<images>) instead of generated faces: it is copied to OUT/planted-<name> with 10% planted bad faces (as `facecluster plant` does; --seed chooses them), and the verdict is measured on those.",
    };
    private static readonly Option<string> LogLevel = new("--log-level") { Description = "error, warning, information or debug.", DefaultValueFactory = _ => "warning" };

    public static Command Create()
    {
        return CliCommands.Define("demo", "Generate a face set with planted bad faces, train on it with a coordinator and 2 local workers, and report how well the ledger found the bad faces.", Run,
            Out, Workers, Cycles, StepsPerCycle, Batch, Identities, PerIdentity, SsimWeight, Seed, Worst, WarmupSteps, Faces, TrainOptionsBinding.FacePrior, TrainOptionsBinding.LatentOutliers, TrainOptionsBinding.NoTexturePrior, TrainOptionsBinding.Wire, LogLevel);
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var inv = CultureInfo.InvariantCulture;
        string outDir = Path.GetFullPath(parse.GetValue(Out)!);
        int worst = parse.GetValue(Worst);
        if (worst < 0) throw new FaceClusterException($"--worst must be 0 or more, got {worst}", ExitCodes.UsageError);
        var synth = new SynthOptions
        {
            OutDir = Path.Combine(outDir, "faces"),
            Identities = parse.GetValue(Identities),
            PerIdentity = parse.GetValue(PerIdentity),
            Seed = parse.GetValue(Seed),
            Size = 64,
        };
        synth.Validate();
        var policy = CurationPolicyOptions.Default;
        if (parse.GetValue(WarmupSteps) is long warmup) policy = policy with { WarmupSteps = warmup };
        if (parse.GetValue(TrainOptionsBinding.FacePrior)) policy = policy with { FaceCheck = true };
        if (parse.GetValue(TrainOptionsBinding.LatentOutliers)) policy = policy with { DetectLatent = true };
        if (parse.GetValue(TrainOptionsBinding.NoTexturePrior)) policy = policy with { DetectTexture = false };
        string? faces = parse.GetValue(Faces);
        string dataDir = faces is null ? synth.OutDir
            : Path.Combine(outDir, "planted-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(faces))));
        var options = new TrainRunOptions
        {
            DataDir = dataDir,
            RunDir = Path.Combine(outDir, "run-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", inv)),
            Workers = parse.GetValue(Workers),
            Cycles = parse.GetValue(Cycles),
            StepsPerCycle = parse.GetValue(StepsPerCycle),
            GlobalBatch = parse.GetValue(Batch),
            Seed = (ulong)synth.Seed,
            SsimWeight = parse.GetValue(SsimWeight),
            Curation = policy,
            Wire = FaceCluster.Common.DataPlane.WireFormats.Parse(parse.GetValue(TrainOptionsBinding.Wire)!),
        };
        options.Validate();

        // 1. The face set: generated once, reused while its truth file says it is complete and of the same parameters.
        var truth = faces is null ? ReuseOrGenerate(synth, output) : ReuseOrPlant(faces, dataDir, synth.Seed, output);
        output.WriteLine(string.Create(inv, $"face set: {dataDir} ({truth.Totals.Images} images of {truth.Identities.Count} identities; {truth.Totals.Bad} planted bad, {truth.Totals.Hard} hard but good)"));

        // 2. Training with curation in auto mode.
        using var loggerFactory = CliLogging.Create(parse);
        using var signals = new CliSignals();
        output.WriteLine(string.Create(inv, $"training: {options.Workers} workers, {options.TotalSteps} steps ({options.Cycles} cycles of {options.StepsPerCycle}), global batch {options.GlobalBatch}{(options.Wire == FaceCluster.Common.DataPlane.WireFormat.Fp32 ? "" : $", gradients on the wire as {FaceCluster.Common.DataPlane.WireFormats.Name(options.Wire)}")}, loss L1 + {options.SsimWeight:0.##}·(1-SSIM)/2, curation auto after {policy.WarmupSteps} steps; run folder {Path.GetFullPath(options.RunDir)}"));
        var result = EmbeddedTrainingRun.RunAsync(options, TrainProgress.ForConsole(output), loggerFactory, signals.Token).GetAwaiter().GetResult();
        if (result.Stopped)
        {
            output.WriteLine($"demo stopped at step {result.Step}; its run folder is {result.RunDir}");
            return ExitCodes.Interrupted;
        }

        // 3. What the ledger found, measured against the planted truth.
        using var ledger = LedgerEngine.OpenReadOnly(result.RunDir, loggerFactory);
        var verdict = DemoVerdict.Measure(ledger, truth);
        output.WriteLine();
        output.WriteLine($"worst faces (ledger of {result.RunDir}):");
        var rows = (WorstSamples)ledger.Handle(new GetWorstSamples(worst, IncludeQuarantined: true));
        var byPath = truth.FilesByPath();
        output.WriteLine(string.Create(inv, $"  {"id",5}  {"status",-15} {"rel. loss",9}  {"planted",-15} path"));
        foreach (var s in rows.Samples)
        {
            string planted = byPath.TryGetValue(s.Path, out var f) ? f.Kind.WireName() : "?";
            output.WriteLine(string.Create(inv, $"  {s.SampleId,5}  {s.Status,-15} {s.EmaRelative,9:F2}  {planted,-15} {s.Path}"));
        }
        output.WriteLine();
        output.WriteLine(string.Create(inv, $"quarantined {verdict.Flagged}: {verdict.TruePositives} planted bad, {verdict.FalsePositives} good ({verdict.GoodQuarantinedFraction:P2} of {verdict.Good} good faces trained on); {verdict.Planted - verdict.TruePositives} planted bad still in training"));
        if (verdict.ByKind.Count > 0) output.WriteLine($"found by planted kind: {verdict.ByKindLine}");
        if (verdict.PlantedInValidation > 0)
            output.WriteLine(string.Create(inv, $"({verdict.PlantedInValidation} planted bad faces fell in the validation split, which is never trained on, so never judged; they are not counted)"));
        output.WriteLine($"ledger queries: facecluster ledger worst --run {result.RunDir}");
        output.WriteLine(verdict.Line);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The planted copy of a real face folder: reused while its truth says it is complete, from the same folder, seed and
    /// fraction, with every file there; planted again otherwise. Occluders go on the face OpenCV's Haar cascade finds where
    /// Debian's opencv-data is installed, else in the middle of the image (the demo says which).
    /// </summary>
    internal static SynthTruth ReuseOrPlant(string faces, string dataDir, int seed, TextWriter output)
    {
        string source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(faces));
        string truthPath = SynthTruth.PathFor(dataDir);
        bool exists = File.Exists(truthPath);
        if (exists)
        {
            try
            {
                var existing = SynthTruth.Load(truthPath);
                if (existing.Plant is { } p && p.Source == source && existing.Seed == seed && Math.Abs(p.Fraction - 0.1) < 1e-9
                    && p.Kinds.Count == SynthKinds.Bad.Count && existing.Files.All(f => File.Exists(Path.Combine(dataDir, f.Path))))
                    return existing;
            }
            catch (FaceClusterException e)
            {
                output.WriteLine($"planting again: {e.Message}");
            }
        }
        var faceBox = File.Exists(Path.Combine(PlantOptions.DefaultCascadeDir, "haarcascade_frontalface_default.xml")) ? FaceBoxMode.Haar : FaceBoxMode.Centre;
        if (faceBox == FaceBoxMode.Centre)
            output.WriteLine($"no Haar cascade in {PlantOptions.DefaultCascadeDir} (Debian: opencv-data): occluders go in the middle of each image");
        output.WriteLine($"planting 10% bad faces into a copy of {source}…");
        var result = FacePlanter.Plant(new PlantOptions { SourceDir = source, OutDir = dataDir, Seed = seed, FaceBox = faceBox, Force = exists });
        PlantCommand.Report(result, output);
        return result.Truth;
    }

    private static SynthTruth ReuseOrGenerate(SynthOptions synth, TextWriter output)
    {
        string truthPath = SynthTruth.PathFor(synth.OutDir);
        if (File.Exists(truthPath))
        {
            try
            {
                var existing = SynthTruth.Load(truthPath);
                var p = existing.Parameters;
                if (existing.Complete && existing.Seed == synth.Seed && p.Identities == synth.Identities && p.PerIdentity == synth.PerIdentity
                    && p.Size == synth.Size && Math.Abs(p.BadFraction - synth.BadFraction) < 1e-9 && existing.Files.All(f => File.Exists(Path.Combine(synth.OutDir, f.Path))))
                    return existing;
            }
            catch (FaceClusterException e)
            {
                output.WriteLine($"regenerating the face set: {e.Message}");
            }
            synth = synth with { Force = true };
        }
        output.WriteLine($"generating the demo face set in {synth.OutDir}…");
        return SynthGenerator.Generate(synth).Truth;
    }
}
