using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

public static partial class CoordinatorDecisions
{
    /// <summary>The run's public status, from the state record (what GET /api/status shows).</summary>
    public static ClusterStatus Status(CoordinatorState s, CoordinatorSettings settings) => new(
        settings.Run.RunId, PhaseName(s.Phase), s.Step, s.Cycle, settings.TotalSteps, s.Generation, settings.GlobalBatch, s.SamplesPerSecond,
        s.Workers.Values.OrderBy(w => w.Id, StringComparer.Ordinal).Select(w => new WorkerStatus(
            w.Id, w.Host, w.Device.Kind == "cpu" ? "cpu" : $"{w.Device.Kind}:{w.Device.Index} {w.Device.Name}",
            w.Life.ToString().ToLowerInvariant(), w.Batch, w.SamplesPerSecond, w.LastStep, w.Device.Note, w.ReplicaStep, w.Checksum,
            MemoryText(w.Telemetry), UtilizationText(w.Telemetry), w.Telemetry?.Source ?? "n/a: not reported yet")).ToArray(),
        s.MeanLoss, s.Excluded.Count, s.LastCheckpointStep, s.LedgerPausedBecause is { } why ? "paused: " + why : "ok");

    public static string MemoryText(DeviceTelemetry? t) =>
        t is { MemoryUsedBytes: >= 0, MemoryTotalBytes: > 0 }
            ? string.Create(CultureInfo.InvariantCulture, $"{t.MemoryUsedBytes / 1073741824.0:F1} / {t.MemoryTotalBytes / 1073741824.0:F1} GiB")
            : "n/a";

    public static string UtilizationText(DeviceTelemetry? t) =>
        t != null && double.IsFinite(t.UtilizationPercent)
            ? string.Create(CultureInfo.InvariantCulture, $"{t.UtilizationPercent:F0} %{(double.IsFinite(t.TemperatureC) ? $", {t.TemperatureC:F0} °C" : "")}")
            : "n/a";

    public static string PhaseName(CoordinatorPhase phase) => phase switch
    {
        CoordinatorPhase.WaitingForWorkers => "waiting-for-workers",
        CoordinatorPhase.AwaitingState => "replanning",
        CoordinatorPhase.Running => "running",
        CoordinatorPhase.Replanning => "replanning",
        CoordinatorPhase.ClosingCycle => "closing-cycle",
        CoordinatorPhase.Checkpointing => "checkpointing",
        CoordinatorPhase.Finishing => "finishing",
        _ => "finished",
    };
}
