using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.State;

namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>
/// How values are laid out in ledger.db: arrays as little-endian BLOBs, the packed per-cycle rows of
/// <c>cycle_samples</c>, the per-sample statistics as their structs' bytes (with a layout signature), times and names.
/// </summary>
internal static class LedgerFormat
{
    /// <summary>Per-cycle rows are packed per block of 2^12 = 4096 samples, so one sample's history is one indexed range read.</summary>
    public const int ChunkShift = 12;

    /// <summary>A full rewrite of the statistics is cut into rows of this many samples.</summary>
    public const int FullPage = 65536;

    private const int CycleEntryBytes = 12;

    // ---------------------------------------------------------------- arrays

    public static byte[] Bytes<T>(ReadOnlySpan<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values).ToArray();

    public static T[] Array<T>(object blob) where T : unmanaged => MemoryMarshal.Cast<byte, T>((byte[])blob).ToArray();

    public static ReadOnlySpan<T> View<T>(byte[] blob) where T : unmanaged => MemoryMarshal.Cast<byte, T>(blob);

    // ---------------------------------------------------------------- per-sample statistics

    /// <summary>
    /// The layout of the per-sample statistics' structs (names, types and offsets of their fields). A snapshot
    /// records it; one written with another layout (a build that added a statistic) is not read: the ledger is
    /// rebuilt from its raw log instead.
    /// </summary>
    public static string StatsLayout { get; } = string.Join(";", Layout<SampleCounters>(), Layout<SamplePolicyState>(), Layout<ProbeCounters>());

    /// <summary>The layout of the snapshots written before the layout was recorded (schema 2, 2026-12-06).</summary>
    public const string LegacyStatsLayout =
        "SampleCounters:52[Observations:Int32@0,RelObservations:Int32@4,Identity:Int32@8,LastStep:Int32@12,LastLoss:Single@16,EmaLoss:Single@20,SmoothedLog:Single@24,SmoothedLogSq:Single@28,CycleObservations:Int32@32,CycleSumLog:Single@36,CycleSumLoss:Single@40,Auc:Double@44];" +
        "SamplePolicyState:72[HighBits:UInt32@0,OddBits:UInt32@4,Evaluated:Int32@8,LastZ:Single@12,LastErraticZ:Single@16,LastExcess:Single@20,RecentCycleExcess:Single@24,RefeedSince:Int64@28,RefeedWeight:Single@36,RefeedBaseline:Single@40,RefeedWindow:Int32@44,RefeedWindowExcess:Single@48,RefeedCycles:Int32@52,RefeedTrend:Single@56,LearnedAtCycle:Int64@60,Held:Int32@68];" +
        "ProbeCounters:24[Probes:Int32@0,LastCycle:Int32@4,LastMargin:Single@8,SmoothedMargin:Single@12,LastZ:Single@16,OutlierBits:UInt32@20]";

    private static string Layout<T>() where T : unmanaged =>
        $"{typeof(T).Name}:{Unsafe.SizeOf<T>()}[" + string.Join(",", typeof(T).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Select(f => (Offset: (long)Marshal.OffsetOf<T>(f.Name), Name: f.Name.Replace("k__BackingField", "").Trim('<', '>'), Type: f.FieldType.Name))
            .OrderBy(f => f.Offset).Select(f => $"{f.Name}:{f.Type}@{f.Offset}")) + "]";

    // ---------------------------------------------------------------- per-cycle rows

    /// <summary>The rows of one closed cycle grouped into blocks of 4096 samples (a counting sort: no comparisons); within a block the order does not matter.</summary>
    public static List<(int Chunk, byte[] Block)> PackCycleRows(IReadOnlyList<CycleSampleRow> rows)
    {
        int maxChunk = 0;
        foreach (var e in rows) maxChunk = Math.Max(maxChunk, e.Dense >> ChunkShift);
        var start = new int[maxChunk + 2];
        foreach (var e in rows) start[(e.Dense >> ChunkShift) + 1]++;
        for (int k = 0; k <= maxChunk; k++) start[k + 1] += start[k];
        var blocks = new byte[maxChunk + 1][];
        for (int chunk = 0; chunk <= maxChunk; chunk++) blocks[chunk] = new byte[(start[chunk + 1] - start[chunk]) * CycleEntryBytes];
        var fill = new int[maxChunk + 1];
        foreach (var e in rows)
        {
            int chunk = e.Dense >> ChunkShift;
            WriteCycleEntry(blocks[chunk].AsSpan(fill[chunk]++ * CycleEntryBytes, CycleEntryBytes), e);
        }
        var result = new List<(int, byte[])>();
        for (int chunk = 0; chunk <= maxChunk; chunk++)
            if (blocks[chunk].Length > 0) result.Add((chunk, blocks[chunk]));
        return result;
    }

    /// <summary>The row of sample <paramref name="dense"/> in a block, if it has one.</summary>
    public static CycleSampleRow? FindCycleRow(byte[] block, int dense)
    {
        ushort offset = (ushort)(dense & ((1 << ChunkShift) - 1));
        for (int at = 0; at + CycleEntryBytes <= block.Length; at += CycleEntryBytes)
        {
            var b = block.AsSpan(at, CycleEntryBytes);
            if (BinaryPrimitives.ReadUInt16LittleEndian(b) != offset) continue;
            return new CycleSampleRow(dense, BinaryPrimitives.ReadUInt16LittleEndian(b[2..]),
                (float)BinaryPrimitives.ReadHalfLittleEndian(b[4..]), (float)BinaryPrimitives.ReadHalfLittleEndian(b[6..]),
                (float)BinaryPrimitives.ReadHalfLittleEndian(b[8..]), float.NaN, (CycleFlags)b[10], b[11]);
        }
        return null;
    }

    /// <summary>12 bytes: offset in its block, observations, mean relative loss, mean loss and z as half floats (3 significant digits: a history to read, not to compute with), flags, status.</summary>
    private static void WriteCycleEntry(Span<byte> b, in CycleSampleRow e)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(e.Dense & ((1 << ChunkShift) - 1)));
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], (ushort)Math.Min(e.Observations, ushort.MaxValue));
        BinaryPrimitives.WriteHalfLittleEndian(b[4..], (Half)e.MeanRelative);
        BinaryPrimitives.WriteHalfLittleEndian(b[6..], (Half)e.MeanLoss);
        BinaryPrimitives.WriteHalfLittleEndian(b[8..], (Half)e.Z);
        b[10] = (byte)e.Flags;
        b[11] = e.Status;
    }

    // ---------------------------------------------------------------- times and names

    public static string Iso(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTime ParseIso(string s) =>
        DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : DateTime.MinValue;

    public static string ActionName(QuarantineAction action) => action == QuarantineAction.Move ? "move" : "exclude";

    public static QuarantineAction ParseAction(string name) => name == "move" ? QuarantineAction.Move : QuarantineAction.Exclude;
}
