
namespace FaceCluster.Coordinator.Ledger;

/// <summary>
/// When the ledger writes to ledger.db. Raw loss records are appended in one transaction every
/// <see cref="IntervalMs"/> or as soon as <see cref="MaxPendingRecords"/> are waiting, whichever comes first: a crash
/// loses at most that window. The derived state (per-sample statistics, curves, pending steps) is written as a
/// snapshot at every cycle close, after every user command, and every <see cref="SnapshotIntervalMs"/>; on reopen the
/// ledger loads the newest snapshot and replays the raw records that came after it.
/// </summary>
public sealed record FlushPolicy(int IntervalMs = 1000, int MaxPendingRecords = 262_144, int SnapshotIntervalMs = 60_000)
{
    public static FlushPolicy Default { get; } = new();

    public void Validate()
    {
        if (IntervalMs is < 10 or > 3_600_000) throw new FaceClusterException($"ledger flush interval {IntervalMs} ms is outside 10..3600000", ExitCodes.UsageError);
        if (MaxPendingRecords is < 1 or > 100_000_000) throw new FaceClusterException($"ledger flush size {MaxPendingRecords} records is outside 1..100000000", ExitCodes.UsageError);
        if (SnapshotIntervalMs < IntervalMs) throw new FaceClusterException($"ledger snapshot interval {SnapshotIntervalMs} ms is shorter than the flush interval {IntervalMs} ms", ExitCodes.UsageError);
    }
}
