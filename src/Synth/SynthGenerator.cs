using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>
/// Generates a procedural face set with planted bad images: DIR/&lt;identity&gt;/&lt;identity&gt;_NNNN.png|jpg,
/// the truth beside it in DIR.truth.json, and optionally clean held-out images in DIR.holdout. The same options
/// always give byte-identical files: every image draws from its own seeded <see cref="Random"/>, so the
/// parallel drawing order does not matter.
/// </summary>
public static class SynthGenerator
{
    public const int JpegQuality = 95;

    public static SynthResult Generate(SynthOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        logger ??= NullLogger.Instance;
        var clock = Stopwatch.StartNew();
        string dataDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.OutDir));
        string truthPath = SynthTruth.PathFor(dataDir);
        string holdoutDir = SynthTruth.HoldoutDirFor(dataDir);
        bool wantHoldout = options.HoldoutPerIdentity > 0;
        int replaced = SynthOutputGuard.Prepare(dataDir, truthPath, holdoutDir, wantHoldout, options.Force, logger);

        var traits = IdentityTraitSampler.Sample(options.Seed, options.Identities);
        var plan = SynthPlan.Create(options);
        var identities = traits.Select((t, i) => new SynthIdentity { Name = plan.IdentityName(i), Summary = t.Describe(), Traits = t }).ToList();

        var jobs = plan.Images.Select(p => (Plan: p, Root: dataDir)).Concat(plan.Holdout.Select(p => (Plan: p, Root: holdoutDir))).ToArray();
        var details = new string?[jobs.Length];
        // The truth is written (marked unfinished) before any image, so a later --force can clean up after a crash.
        Directory.CreateDirectory(dataDir);
        foreach (var identity in identities)
        {
            Directory.CreateDirectory(Path.Combine(dataDir, identity.Name));
            if (wantHoldout) Directory.CreateDirectory(Path.Combine(holdoutDir, identity.Name));
        }
        BuildTruth(options, plan, identities, details, complete: false).Save(truthPath);
        logger.LogInformation("synth: drawing {Images} images ({Holdout} holdout) of {Identities} identities at {Size} px into {Dir}",
            plan.Images.Count, plan.Holdout.Count, identities.Count, options.Size, dataDir);

        var parallel = new ParallelOptions
        {
            CancellationToken = cancellationToken,
            MaxDegreeOfParallelism = options.MaxParallelism ?? Environment.ProcessorCount,
        };
        try
        {
            Parallel.For(0, jobs.Length, parallel, index =>
            {
                var (image, root) = jobs[index];
                using var mat = SynthImageRenderer.Render(image.Request, traits, options.Size, out string? detail);
                if (image.Kind == SynthKind.WrongIdentity)
                    detail = $"face of {plan.IdentityName(image.DrawnIdentity)}";
                details[index] = detail;
                byte[] bytes = Encode(mat, image.Jpeg);
                File.WriteAllBytes(Path.Combine(root, plan.RelativePath(image).Replace('/', Path.DirectorySeparatorChar)), bytes);
            });
        }
        catch (AggregateException e)
        {
            // Several threads may fail the same way (a full disk): report the first failure as itself.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }

        var truth = BuildTruth(options, plan, identities, details, complete: true);
        truth.Save(truthPath);
        clock.Stop();
        logger.LogInformation("synth: wrote {Images} images and {Truth} in {Seconds:0.00} s", jobs.Length, truthPath, clock.Elapsed.TotalSeconds);
        return new SynthResult
        {
            DataDir = dataDir,
            TruthPath = truthPath,
            HoldoutDir = wantHoldout ? holdoutDir : null,
            Truth = truth,
            ReplacedFiles = replaced,
            Elapsed = clock.Elapsed,
        };
    }

    private static byte[] Encode(Mat image, bool jpeg)
    {
        byte[] bytes;
        if (jpeg) Cv2.ImEncode(".jpg", image, out bytes, new ImageEncodingParam(ImwriteFlags.JpegQuality, JpegQuality));
        else Cv2.ImEncode(".png", image, out bytes);
        if (bytes.Length == 0) throw new FaceClusterException($"OpenCV could not encode a {(jpeg ? "JPEG" : "PNG")} image", ExitCodes.InternalError);
        return bytes;
    }

    private static SynthTruth BuildTruth(SynthOptions options, SynthPlan plan, List<SynthIdentity> identities, string?[] details, bool complete)
    {
        SynthFileEntry Entry(SynthPlannedImage image, string? detail) => new()
        {
            Path = plan.RelativePath(image),
            Identity = plan.IdentityName(image.Identity),
            Kind = image.Kind,
            SourceIdentity = image.Kind == SynthKind.WrongIdentity ? plan.IdentityName(image.DrawnIdentity) : null,
            Detail = detail,
        };
        var files = plan.Images.Select((image, i) => Entry(image, details[i])).ToList();
        var holdout = plan.Holdout.Select(image => Entry(image, null)).ToList();
        var byKind = SynthKinds.All.ToDictionary(k => k.WireName(), k => files.Count(f => f.Kind == k));
        return new SynthTruth
        {
            Generator = SynthTruth.GeneratorName,
            GeneratorVersion = SynthTruth.CurrentVersion,
            Complete = complete,
            Seed = options.Seed,
            Parameters = new SynthParameters
            {
                Identities = options.Identities,
                PerIdentity = options.PerIdentity,
                BadFraction = options.BadFraction,
                HardFraction = options.HardFraction,
                Size = options.Size,
                HoldoutPerIdentity = options.HoldoutPerIdentity,
                JpegFraction = options.JpegFraction,
            },
            Identities = identities,
            Files = files,
            Holdout = holdout,
            Totals = new SynthTotals
            {
                Images = files.Count,
                Good = files.Count(f => f.Kind == SynthKind.Good),
                Hard = files.Count(f => f.Kind == SynthKind.Hard),
                Bad = files.Count(f => f.IsBad),
                ByKind = byKind,
                Holdout = holdout.Count,
            },
        };
    }
}
