using System.Security.Cryptography;
using System.Text;

namespace FaceCluster.Cli.Offline.QualityScreening;

/// <summary>
/// `facecluster curate`: grows a good/bad face classifier by pseudo-labelling.
/// <list type="number">
/// <item>Seed labels: the images of --good and --bad (hand labels) and/or those of a run's ledger (--labels-from:
///   quarantined = bad, consistently low loss = good, see <see cref="LedgerSeeds"/>); a hand label wins over a ledger
///   label of the same file. A share of the seed labels (--holdout, by a hash of the path) is held out.</item>
/// <item>Each round trains a fresh <see cref="QualityClassifier"/> on the labelled images (seed + pseudo-labels so
///   far), measures accuracy on the held-out part, scores every unlabelled image of --data and labels those with
///   P(bad) ≤ low as good and ≥ high as bad — the most confident first, at most --max-growth × the labels the class
///   has now (so a round's overconfident mistakes cannot swamp the seeds). It stops when a round labels nothing or
///   after --rounds rounds.</item>
/// <item>Labels are RECORDED in OUT/labels.tsv after each round (rewritten atomically). With --move a pseudo-labelled
///   file is moved into the --good or --bad folder (a free name is chosen; nothing is ever overwritten or deleted).</item>
/// <item>The final classifier is saved under OUT/checkpoints; --screen DIR scores a new folder with it and lists
///   what it would reject (P(bad) ≥ --reject), also in OUT/screen.tsv.</item>
/// </list>
/// </summary>
public static class QualityCurator
{
    public const string LabelsFileName = "labels.tsv";
    public const string ScreenFileName = "screen.tsv";

    public static CurateResult Run(CurateOptions options, TextWriter output)
    {
        options.Validate();
        var warnings = new List<string>();
        string outDir = Path.GetFullPath(options.OutDir);
        Directory.CreateDirectory(outDir);
        string? good = options.GoodDir is null ? null : Path.GetFullPath(options.GoodDir);
        string? bad = options.BadDir is null ? null : Path.GetFullPath(options.BadDir);

        // Seed labels.
        var seeds = new Dictionary<string, CuratedLabel>(StringComparer.Ordinal);
        int handGood = 0, handBad = 0;
        if (good != null) foreach (var p in ImageFileLoader.ListImages(good)) { seeds[p] = new CuratedLabel(p, false, "hand", 0, double.NaN, false, ""); handGood++; }
        if (bad != null)
            foreach (var p in ImageFileLoader.ListImages(bad))
            {
                if (seeds.Remove(p)) { warnings.Add($"{p} is under both --good and --bad; left unlabelled"); handGood--; continue; }
                seeds[p] = new CuratedLabel(p, true, "hand", 0, double.NaN, false, ""); handBad++;
            }
        if (good != null && handGood == 0) throw new FaceClusterException($"--good {options.GoodDir}: no images in the folder", ExitCodes.UsageError);
        if (bad != null && handBad == 0) throw new FaceClusterException($"--bad {options.BadDir}: no images in the folder", ExitCodes.UsageError);
        if (options.LabelsFrom != null)
        {
            var ledger = LedgerSeeds.Read(options.LabelsFrom, options.DataDir);
            int added = 0;
            foreach (var (paths, isBad) in new[] { (ledger.Bad, true), (ledger.Good, false) })
                foreach (var p in paths)
                    if (seeds.TryAdd(p, new CuratedLabel(p, isBad, "ledger", 0, double.NaN, false, ""))) added++;
            output.WriteLine($"ledger of {options.LabelsFrom}: {ledger.Bad.Length} quarantined (bad), {ledger.Good.Length} with consistently low loss (good) of {ledger.Ranked} ranked; {added} new labels" +
                (ledger.Missing > 0 ? $"; {ledger.Missing} files no longer exist" : ""));
        }

        // Hold out part of the seed labels, per class, keeping at least one of each class for training.
        foreach (bool cls in new[] { false, true })
        {
            var ofClass = seeds.Values.Where(l => l.Bad == cls).OrderBy(l => Hash(l.Path), StringComparer.Ordinal).ToList();
            if (ofClass.Count == 0)
                throw new FaceClusterException($"curate needs at least one {(cls ? "bad" : "good")} seed image; got none" +
                    (options.LabelsFrom != null ? $" (the ledger of {options.LabelsFrom} gave none either)" : ""), ExitCodes.UsageError);
            int hold = Math.Min(ofClass.Count - 1, (int)Math.Floor(ofClass.Count * options.HoldoutFraction));
            foreach (var l in ofClass.Take(hold)) seeds[l.Path] = l with { HeldOut = true };
        }

        // The unlabelled pool: every image of --data that is not labelled and not under --good/--bad.
        var pool = ImageFileLoader.ListImages(options.DataDir)
            .Where(p => !seeds.ContainsKey(p) && !Under(p, good) && !Under(p, bad) && !Under(p, outDir)).ToList();
        var labelledPaths = seeds.Keys.Order(StringComparer.Ordinal).ToList();
        var images = ImageFileLoader.Load(labelledPaths.Concat(pool).ToArray(), options.Preset.ImageSize);
        foreach (var f in images.Failures) warnings.Add("skipped: " + f);
        var rowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < images.Count; i++) rowOf[images.Paths[i]] = i;
        var labels = seeds.Values.Where(l => rowOf.ContainsKey(l.Path)).ToDictionary(l => l.Path, StringComparer.Ordinal);
        var unlabelled = pool.Where(rowOf.ContainsKey).ToList();
        output.WriteLine($"seed labels: {labels.Values.Count(l => !l.Bad)} good, {labels.Values.Count(l => l.Bad)} bad ({labels.Values.Count(l => l.HeldOut)} held out); {unlabelled.Count} unlabelled images in {options.DataDir}");

        string labelsFile = Path.Combine(outDir, LabelsFileName);
        var rounds = new List<CurateRound>();
        QualityClassifier? classifier = null;
        try
        {
            for (int round = 1; round <= options.Rounds; round++)
            {
                var train = labels.Values.Where(l => !l.HeldOut).OrderBy(l => l.Path, StringComparer.Ordinal).ToList();
                classifier?.Dispose();
                classifier = null;
                classifier = QualityClassifier.Train(options.Preset, images, train.Select(l => rowOf[l.Path]).ToArray(), train.Select(l => l.Bad).ToArray(),
                    options.Training with { Seed = options.Training.Seed + (ulong)round });
                var heldOut = labels.Values.Where(l => l.HeldOut).ToList();
                double accuracy = double.NaN;
                if (heldOut.Count > 0)
                {
                    var p = classifier.Score(images, heldOut.Select(l => rowOf[l.Path]).ToArray());
                    accuracy = heldOut.Where((l, i) => (p[i] >= 0.5) == l.Bad).Count() / (double)heldOut.Count;
                }
                int movedGood = 0, movedBad = 0;
                if (unlabelled.Count > 0)
                {
                    var scores = classifier.Score(images, unlabelled.Select(p => rowOf[p]).ToArray());
                    // The most confident first, at most MaxGrowth × the labels a class has now, so one round's
                    // overconfident mistakes cannot swamp the seed labels.
                    var chosen = new Dictionary<int, bool>();
                    foreach (bool isBad in new[] { false, true })
                    {
                        int have = train.Count(l => l.Bad == isBad);
                        int allowed = (int)Math.Max(1, Math.Ceiling(options.MaxGrowth * have));
                        var candidates = Enumerable.Range(0, unlabelled.Count)
                            .Where(i => isBad ? scores[i] >= options.High : scores[i] <= options.Low)
                            .OrderBy(i => isBad ? -scores[i] : scores[i]).ThenBy(i => unlabelled[i], StringComparer.Ordinal)
                            .Take(allowed);
                        foreach (int i in candidates) chosen[i] = isBad;
                    }
                    var still = new List<string>();
                    for (int i = 0; i < unlabelled.Count; i++)
                    {
                        if (!chosen.TryGetValue(i, out bool isBad)) { still.Add(unlabelled[i]); continue; }
                        string movedTo = options.Move ? MoveInto(unlabelled[i], isBad ? bad! : good!) : "";
                        labels[unlabelled[i]] = new CuratedLabel(unlabelled[i], isBad, "pseudo", round, scores[i], false, movedTo);
                        if (isBad) movedBad++; else movedGood++;
                    }
                    unlabelled = still;
                }
                var r = new CurateRound(round, train.Count(l => !l.Bad), train.Count(l => l.Bad), accuracy, heldOut.Count, movedGood, movedBad, unlabelled.Count, classifier.FinalLoss);
                rounds.Add(r);
                WriteLabels(labelsFile, labels.Values);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: trained on {r.TrainGood} good + {r.TrainBad} bad (loss {r.FinalLoss:F4}); held-out accuracy {(heldOut.Count > 0 ? r.HeldOutAccuracy.ToString("F4", CultureInfo.InvariantCulture) : "n/a")} ({heldOut.Count}); " +
                    $"{(options.Move ? "moved" : "labelled")} {r.Moved} ({movedGood} good, {movedBad} bad); {unlabelled.Count} unlabelled left"));
                if (r.Moved == 0) break;
            }

            var checkpoint = classifier!.Save(outDir);
            output.WriteLine($"labels: {labelsFile}; classifier: {checkpoint.Directory}");

            var screened = new List<(string, double)>();
            var rejected = new List<(string, double)>();
            string? screenFile = null;
            if (options.ScreenDir != null)
            {
                var screen = ImageFileLoader.Load(ImageFileLoader.ListImages(options.ScreenDir), options.Preset.ImageSize);
                foreach (var f in screen.Failures) { warnings.Add("screen skipped: " + f); rejected.Add((f.Split(':')[0], double.NaN)); }
                var p = classifier.Score(screen);
                for (int i = 0; i < screen.Count; i++)
                {
                    screened.Add((screen.Paths[i], p[i]));
                    if (p[i] >= options.Reject) rejected.Add((screen.Paths[i], p[i]));
                }
                screenFile = Path.Combine(outDir, ScreenFileName);
                WriteAtomically(screenFile, "p_bad\tverdict\tpath\n" + string.Concat(screened.Select(s =>
                    string.Create(CultureInfo.InvariantCulture, $"{s.Item2:F4}\t{(s.Item2 >= options.Reject ? "reject" : "keep")}\t{s.Item1}\n"))));
                output.WriteLine($"screen {options.ScreenDir}: {screen.Count} images scored, {rejected.Count} would be rejected (P(bad) >= {options.Reject.ToString(CultureInfo.InvariantCulture)}" +
                    (screen.Failures.Length > 0 ? $", {screen.Failures.Length} unreadable" : "") + ")");
                foreach (var (path, pb) in rejected.OrderByDescending(x => double.IsNaN(x.Item2) ? 2 : x.Item2))
                    output.WriteLine(double.IsNaN(pb) ? $"  reject  unreadable  {path}" : string.Create(CultureInfo.InvariantCulture, $"  reject  {pb:F3}  {path}"));
            }
            return new CurateResult(rounds, labels.Values.OrderBy(l => l.Path, StringComparer.Ordinal).ToList(), screened, rejected, labelsFile, screenFile, checkpoint.Directory, warnings);
        }
        finally
        {
            classifier?.Dispose();
        }
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(path)));

    private static bool Under(string path, string? folder) =>
        folder != null && path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Moves <paramref name="file"/> into <paramref name="folder"/> under its name or the first free "name-N"; never overwrites.</summary>
    public static string MoveInto(string file, string folder)
    {
        string name = Path.GetFileNameWithoutExtension(file), ext = Path.GetExtension(file);
        for (int n = 0; ; n++)
        {
            string target = Path.Combine(folder, n == 0 ? name + ext : $"{name}-{n}{ext}");
            if (File.Exists(target) || Directory.Exists(target)) continue;
            try
            {
                File.Move(file, target, overwrite: false);
                return target;
            }
            catch (IOException) when (File.Exists(target) && File.Exists(file))
            {
                // Someone took the name between the check and the move: try the next one.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FaceClusterException($"could not move {file} into {folder}: {e.Message}", ExitCodes.UserError, e);
            }
        }
    }

    private static void WriteLabels(string file, IEnumerable<CuratedLabel> labels)
    {
        var text = new StringBuilder("label\tsource\tround\tp_bad\theld_out\tpath\tmoved_to\n");
        foreach (var l in labels.OrderBy(l => l.Round).ThenBy(l => l.Path, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $"{(l.Bad ? "bad" : "good")}\t{l.Source}\t{l.Round}\t{(double.IsNaN(l.PBad) ? "" : l.PBad.ToString("F4", CultureInfo.InvariantCulture))}\t{(l.HeldOut ? "yes" : "no")}\t{l.Path}\t{l.MovedTo}\n");
        WriteAtomically(file, text.ToString());
    }

    private static void WriteAtomically(string file, string text)
    {
        string temp = file + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, file, overwrite: true);
    }
}
