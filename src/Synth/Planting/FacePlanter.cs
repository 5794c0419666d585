using FaceCluster.Common.IO;
using FaceCluster.Common.FaceSet;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace FaceCluster.Synth.Planting;

/// <summary>
/// `facecluster plant`: copies a real face folder (DIR/&lt;identity&gt;/&lt;images&gt;) and replaces a share of its images
/// with planted bad faces of the chosen kinds, writing the truth beside the copy (OUT.truth.json, the demo's format)
/// so that the ledger can be measured on real faces. The source is only read. Unplanted files are copied byte for
/// byte; a planted file keeps its name and format, so nothing but its pixels tells it apart. Each identity gets its
/// share (at most half of its images), kinds come in equal numbers, and the same seed gives the same copy.
/// A wrong-identity face is another identity's real photo filed under this one, and it is moved, not copied: the
/// donor's own file is left out of the copy (and of the truth), as in a set where a photo was filed under the wrong
/// name. A copy would leave the same photo under two names, and the truth would count the donor's original as good.
/// </summary>
public static class FacePlanter
{
    public static PlantResult Plant(PlantOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        logger ??= NullLogger.Instance;
        string source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.SourceDir));
        string dataDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.OutDir));
        string truthPath = SynthTruth.PathFor(dataDir);
        var listed = ListSource(source);
        if (listed.Count < 2)
            throw new FaceClusterException($"--faces {source}: plant needs at least 2 identity folders with images (a wrong-identity face comes from another one); found {listed.Count}", ExitCodes.UserError);

        using var finder = FaceBoxFinder.Create(options.FaceBox, options.CascadeDir);
        var unreadable = new List<string>();
        var images = new List<SourceImage>();
        foreach (var (identity, files) in listed)
            foreach (string relative in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string path = Path.Combine(source, relative.Replace('/', Path.DirectorySeparatorChar));
                try
                {
                    var bytes = RegularFiles.ReadImage(path);
                    using var probe = Cv2.ImDecode(bytes, ImreadModes.Unchanged);
                    if (probe.Empty()) { unreadable.Add($"{relative}: OpenCV cannot decode it"); continue; }
                    using var bgr = Cv2.ImDecode(bytes, ImreadModes.Color);
                    images.Add(new SourceImage(identity, relative, probe.Channels() == 1, bgr.Size(), finder.Find(bgr)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or OpenCVException)
                {
                    unreadable.Add($"{relative}: {e.Message}");
                }
            }
        foreach (var u in unreadable) logger.LogWarning("plant: left out {File}", u);

        var rng = new Random(options.Seed);
        var plan = Choose(images, options, rng);
        // Wrong-identity faces come from unplanted images of other identities, each moved once (chosen before any file
        // is written, so that a donor's own file is never copied).
        var donorOf = ChooseDonors(images, plan, rng);
        var moved = donorOf.Values.ToHashSet();
        int replaced = SynthOutputGuard.Prepare(dataDir, truthPath, SynthTruth.HoldoutDirFor(dataDir), wantHoldout: false, options.Force, logger);
        var identities = images.Select(i => i.Identity).Distinct().Order(StringComparer.Ordinal).ToList();
        var details = new string?[images.Count];
        var sources = new string?[images.Count];
        Directory.CreateDirectory(dataDir);
        BuildTruth(options, source, finder.Description, identities, images, plan, details, sources, complete: false, moved).Save(truthPath);

        // Median face box per identity, for images where the cascade found none.
        var medians = images.Where(i => i.Found is not null).GroupBy(i => i.Identity)
            .ToDictionary(g => g.Key, g => g.Select(i => (i.Found!.Value, i.Size)).ToList(), StringComparer.Ordinal);
        // Each kind cycles through its variants from a seeded start, so every variant appears.
        var variant = SynthKinds.Bad.ToDictionary(k => k, _ => rng.Next(60));
        for (int i = 0; i < images.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (moved.Contains(i)) continue; // filed under another identity as its wrong-identity face
            var image = images[i];
            string from = Path.Combine(source, image.Relative.Replace('/', Path.DirectorySeparatorChar));
            string to = Path.Combine(dataDir, image.Relative.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            var kind = plan[i];
            if (kind == SynthKind.Good)
            {
                File.Copy(from, to, overwrite: false);
                continue;
            }
            var box = image.Found ?? FaceBoxFinder.Median(medians.GetValueOrDefault(image.Identity) ?? [], image.Size) ?? FaceBoxFinder.Centre(image.Size);
            Mat made;
            string detail;
            if (kind == SynthKind.WrongIdentity)
            {
                var donor = images[donorOf[i]];
                using var donorMat = Cv2.ImDecode(RegularFiles.ReadImage(Path.Combine(source, donor.Relative.Replace('/', Path.DirectorySeparatorChar))), ImreadModes.Color);
                made = new Mat();
                Cv2.Resize(donorMat, made, image.Size, 0, 0, InterpolationFlags.Area);
                detail = $"face of {donor.Identity} ({donor.Relative})";
                sources[i] = donor.Identity;
            }
            else
            {
                using var face = Cv2.ImDecode(RegularFiles.ReadImage(from), ImreadModes.Color);
                int v = variant[kind]++;
                made = kind switch
                {
                    SynthKind.Misaligned => BadFaceMaker.Misaligned(face, box, v, rng, out detail),
                    SynthKind.Occluded => BadFaceMaker.Occluded(face, box, v, rng, out detail),
                    SynthKind.NotAFace => BadFaceMaker.NotAFace(face, box, v, rng, out detail),
                    _ => BadFaceMaker.BlankOrOverexposed(face, v, rng, out detail),
                };
            }
            using (made)
            {
                if (image.Grey) Cv2.CvtColor(made, made, ColorConversionCodes.BGR2GRAY);
                string ext = Path.GetExtension(image.Relative).ToLowerInvariant();
                var param = ext is ".jpg" or ".jpeg" ? new[] { new ImageEncodingParam(ImwriteFlags.JpegQuality, SynthGenerator.JpegQuality) } : [];
                Cv2.ImEncode(ext, made, out byte[] bytes, param);
                if (bytes.Length == 0)
                    throw new FaceClusterException($"{to}: OpenCV could not encode a {ext} image", ExitCodes.InternalError);
                File.WriteAllBytes(to, bytes);
            }
            details[i] = detail;
        }

        var truth = BuildTruth(options, source, finder.Description, identities, images, plan, details, sources, complete: true, moved);
        truth.Save(truthPath);
        logger.LogInformation("plant: copied {Images} images of {Identities} identities from {Source} to {Out}, {Bad} planted", truth.Totals.Images, identities.Count, source, dataDir, truth.Totals.Bad);
        return new PlantResult
        {
            DataDir = dataDir, TruthPath = truthPath, Truth = truth, Unreadable = unreadable,
            FacesFound = images.Where((img, i) => !moved.Contains(i)).Count(i => i.Found is not null), ReplacedFiles = replaced,
        };
    }

    private sealed record SourceImage(string Identity, string Relative, bool Grey, Size Size, Rect? Found);

    /// <summary>Identity folders (sorted) and their image files (relative, '/', sorted); hidden names skipped.</summary>
    private static List<(string Identity, List<string> Files)> ListSource(string source)
    {
        var result = new List<(string, List<string>)>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var dir in new DirectoryInfo(source).EnumerateDirectories().Where(d => !FaceImageFiles.IsHidden(d.Name) && !d.Attributes.HasFlag(FileAttributes.ReparsePoint))
                     .OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            var files = dir.EnumerateFiles("*", options)
                .Where(f => FaceImageFiles.HasImageExtension(f.Name) && !Path.GetRelativePath(dir.FullName, f.FullName).Split(Path.DirectorySeparatorChar).Any(FaceImageFiles.IsHidden))
                .Select(f => Path.GetRelativePath(source, f.FullName).Replace(Path.DirectorySeparatorChar, '/'))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count > 0) result.Add((dir.Name, files));
        }
        return result;
    }

    /// <summary>
    /// The kind of every image: round(fraction × images) planted, spread over the identities in proportion (never more
    /// than half of one), the kinds in equal numbers in a shuffled order.
    /// </summary>
    private static SynthKind[] Choose(List<SourceImage> images, PlantOptions options, Random rng)
    {
        var plan = Enumerable.Repeat(SynthKind.Good, images.Count).ToArray();
        int total = (int)Math.Round(options.Fraction * images.Count, MidpointRounding.AwayFromZero);
        var byIdentity = images.Select((img, index) => (img, index)).GroupBy(p => p.img.Identity).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Select(p => p.index).ToList()).ToList();
        var quota = byIdentity.Select(g => (int)Math.Floor(options.Fraction * g.Count)).ToArray();
        var order = Enumerable.Range(0, byIdentity.Count).OrderBy(_ => rng.Next()).ToList();
        for (int pass = 0; quota.Sum() < total && pass < 4; pass++)
            foreach (int g in order)
                if (quota.Sum() < total && quota[g] < byIdentity[g].Count / 2) quota[g]++;
        var kinds = Enumerable.Range(0, quota.Sum()).Select(i => options.Kinds[i % options.Kinds.Count]).OrderBy(_ => rng.Next()).ToList();
        int next = 0;
        for (int g = 0; g < byIdentity.Count; g++)
            foreach (int index in byIdentity[g].OrderBy(_ => rng.Next()).Take(quota[g]))
                plan[index] = kinds[next++];
        return plan;
    }

    /// <summary>
    /// For every wrong-identity image, the index of the good image of another identity whose photo takes its place:
    /// each donor used once, and never one of the last 2 good images of its identity (plant refuses a set too small for that).
    /// </summary>
    private static Dictionary<int, int> ChooseDonors(List<SourceImage> images, SynthKind[] plan, Random rng)
    {
        var donorOf = new Dictionary<int, int>();
        var goodLeft = images.Select((img, index) => (img, index)).Where(p => plan[p.index] == SynthKind.Good)
            .GroupBy(p => p.img.Identity).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var used = new HashSet<int>();
        for (int i = 0; i < images.Count; i++)
        {
            if (plan[i] != SynthKind.WrongIdentity) continue;
            var others = Enumerable.Range(0, images.Count)
                .Where(d => plan[d] == SynthKind.Good && !used.Contains(d) && images[d].Identity != images[i].Identity && goodLeft[images[d].Identity] > 2)
                .ToList();
            if (others.Count == 0)
                throw new FaceClusterException($"--faces: plant found no identity with more than 2 unplanted images to give a wrong-identity face to {images[i].Relative}; use a larger set or a smaller --fraction", ExitCodes.UserError);
            int donor = others[rng.Next(others.Count)];
            used.Add(donor);
            goodLeft[images[donor].Identity]--;
            donorOf[i] = donor;
        }
        return donorOf;
    }

    private static SynthTruth BuildTruth(PlantOptions options, string source, string faceBox, List<string> identities, List<SourceImage> images,
        SynthKind[] plan, string?[] details, string?[] sources, bool complete, IReadOnlySet<int> moved)
    {
        var files = images.Select((img, i) => (img, i)).Where(p => !moved.Contains(p.i)).Select(p => new SynthFileEntry
        {
            Path = p.img.Relative, Identity = p.img.Identity, Kind = plan[p.i], SourceIdentity = sources[p.i], Detail = details[p.i],
        }).ToList();
        return new SynthTruth
        {
            Generator = SynthTruth.PlantGeneratorName,
            GeneratorVersion = SynthTruth.CurrentVersion,
            Complete = complete,
            Seed = options.Seed,
            Parameters = new SynthParameters
            {
                Identities = identities.Count, PerIdentity = identities.Count == 0 ? 0 : files.Count / identities.Count,
                BadFraction = options.Fraction, HardFraction = 0, Size = 0, HoldoutPerIdentity = 0, JpegFraction = 0,
            },
            Identities = identities.Select(name => new SynthIdentity
            {
                Name = name, Summary = string.Create(CultureInfo.InvariantCulture, $"{files.Count(f => f.Identity == name)} real images"),
            }).ToList(),
            Files = files,
            Holdout = [],
            Totals = new SynthTotals
            {
                Images = files.Count,
                Good = files.Count(f => f.Kind == SynthKind.Good),
                Hard = 0,
                Bad = files.Count(f => f.IsBad),
                ByKind = SynthKinds.All.ToDictionary(k => k.WireName(), k => files.Count(f => f.Kind == k)),
                Holdout = 0,
            },
            Plant = new PlantParameters { Source = source, Fraction = options.Fraction, Kinds = options.Kinds.Select(k => k.WireName()).ToList(), FaceBox = faceBox },
        };
    }
}
