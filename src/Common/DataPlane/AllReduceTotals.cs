namespace FaceCluster.Common.DataPlane;

/// <summary>Running totals of a <see cref="RingSession"/> over its completed all-reduces.</summary>
public sealed record AllReduceTotals(long Calls, long BytesSent, long BytesReceived, TimeSpan Elapsed)
{
    /// <summary>Nothing done yet.</summary>
    public static AllReduceTotals Zero { get; } = new(0, 0, 0, TimeSpan.Zero);

    internal AllReduceTotals Add(AllReduceStats stats) =>
        new(Calls + 1, BytesSent + stats.BytesSent, BytesReceived + stats.BytesReceived, Elapsed + stats.Elapsed);
}
