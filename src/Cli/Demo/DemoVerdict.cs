using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Synth;

namespace FaceCluster.Cli.Demo;

/// <summary>
/// How well a run's ledger found the planted bad faces of a generated face set. Flagged: the samples the ledger
/// quarantined or holds for review. Planted: the bad faces among the samples the ledger judged (the training split:
/// validation images are never trained on, so never judged).
/// </summary>
public sealed record DemoVerdict(int Flagged, int TruePositives, int Planted, int Good, int PlantedInValidation)
{
    public int FalsePositives => Flagged - TruePositives;
    public double Precision => Flagged == 0 ? 0 : (double)TruePositives / Flagged;
    public double Recall => Planted == 0 ? 1 : (double)TruePositives / Planted;
    public double GoodQuarantinedFraction => Good == 0 ? 0 : (double)FalsePositives / Good;

    /// <summary>The demo's last line: <c>verdict: precision=P recall=R flagged=F planted=T</c>.</summary>
    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"verdict: precision={Precision:F2} recall={Recall:F2} flagged={Flagged} planted={Planted}");

    public static DemoVerdict Measure(LedgerEngine ledger, SynthTruth truth)
    {
        var flaggedPaths = new HashSet<string>(StringComparer.Ordinal);
        var quarantine = (QuarantineList)ledger.Handle(new GetQuarantine(IncludeRestored: false));
        foreach (var e in quarantine.Entries) flaggedPaths.Add(e.Path);
        var review = (ReviewQueue)ledger.Handle(GetReviewQueue.Instance);
        foreach (var s in review.Samples) flaggedPaths.Add(s.Path);
        var manifest = ManifestStore.Load(ManifestStore.PathFor(ledger.Options.RunDir));
        return Measure(flaggedPaths, manifest.TrainingSamples.Select(s => s.RelativePath), truth);
    }

    /// <summary>Per planted kind (wire name, e.g. "misaligned"): how many of the judged ones were flagged, of how many.</summary>
    public IReadOnlyList<(string Kind, int Found, int Planted)> ByKind { get; init; } = [];

    /// <summary>"blank-or-overexposed 8/8, misaligned 3/10, ...": recall per planted kind.</summary>
    public string ByKindLine => string.Join(", ", ByKind.Select(k => $"{k.Kind} {k.Found}/{k.Planted}"));

    public static DemoVerdict Measure(IReadOnlySet<string> flaggedPaths, IEnumerable<string> judgedPaths, SynthTruth truth)
    {
        var byPath = truth.FilesByPath();
        var judged = judgedPaths.ToHashSet(StringComparer.Ordinal);
        int planted = 0, good = 0, tp = 0, flagged = 0;
        var kinds = new SortedDictionary<string, (int Found, int Planted)>(StringComparer.Ordinal);
        foreach (var path in judged)
        {
            bool bad = byPath.TryGetValue(path, out var f) && f.IsBad;
            bool hit = flaggedPaths.Contains(path);
            if (bad)
            {
                planted++;
                var k = kinds.GetValueOrDefault(f!.Kind.WireName());
                kinds[f.Kind.WireName()] = (k.Found + (hit ? 1 : 0), k.Planted + 1);
            }
            else good++;
            if (hit) { flagged++; if (bad) tp++; }
        }
        int inValidation = truth.BadFiles.Count(f => !judged.Contains(f.Path));
        return new DemoVerdict(flagged, tp, planted, good, inValidation) { ByKind = kinds.Select(k => (k.Key, k.Value.Found, k.Value.Planted)).ToList() };
    }
}
