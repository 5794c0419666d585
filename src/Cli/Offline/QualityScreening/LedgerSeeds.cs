using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Cli.Offline.QualityScreening;

/// <summary>
/// Labels seeded from a run's ledger (`curate --labels-from RUNDIR`), read through <see cref="LedgerEngine.OpenReadOnly"/>:
/// quarantined faces are bad (<see cref="GetQuarantine"/>, restored ones left out); faces with consistently low loss
/// are good: status active, seen at least <see cref="MinObservations"/> times, a smoothed relative loss (loss ÷
/// median loss of its step) at most <see cref="MaxGoodRelative"/> (at or below its batch-mates' median), and never an outlier in its recent cycles
/// (<see cref="GetWorstSamples"/> over every ranked sample).
/// </summary>
public sealed record LedgerSeeds(string[] Bad, string[] Good, int Ranked, int Missing)
{
    public const int MinObservations = 5;
    public const double MaxGoodRelative = 1.0;

    /// <param name="dataDir">The data root the ledger's relative paths are resolved against.</param>
    public static LedgerSeeds Read(string runDir, string dataDir)
    {
        if (!Directory.Exists(runDir)) throw new FaceClusterException($"--labels-from {runDir}: the run folder does not exist", ExitCodes.UsageError);
        using var engine = LedgerEngine.OpenReadOnly(runDir);
        var quarantine = Expect<QuarantineList>(engine.Handle(new GetQuarantine(false)), runDir);
        var ranked = Expect<WorstSamples>(engine.Handle(new GetWorstSamples(engine.SampleCount, false)), runDir);
        int missing = 0;
        string? Resolve(string relativePath, string? currentPath)
        {
            if (!string.IsNullOrEmpty(currentPath) && Path.IsPathRooted(currentPath) && File.Exists(currentPath)) return currentPath;
            string path = Path.GetFullPath(Path.Combine(dataDir, relativePath));
            if (File.Exists(path)) return path;
            missing++;
            return null;
        }
        var bad = quarantine.Entries.Where(e => !e.Restored).Select(e => Resolve(e.Path, e.CurrentPath)).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var good = ranked.Samples
            .Where(s => s.Status == SampleStatus.Active.ToName() && s.Observations >= MinObservations && s.OutlierCycles == 0
                        && double.IsFinite(s.EmaRelative) && s.EmaRelative <= MaxGoodRelative)
            .Select(s => Resolve(s.Path, null)).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        return new LedgerSeeds(bad, good, ranked.Ranked, missing);
    }

    private static T Expect<T>(object reply, string runDir) where T : class =>
        reply as T ?? throw new FaceClusterException($"--labels-from {runDir}: the ledger answered " +
            (reply is LedgerError e ? e.Message : reply.GetType().Name));
}
