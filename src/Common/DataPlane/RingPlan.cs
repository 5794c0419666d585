namespace FaceCluster.Common.DataPlane;

/// <summary>
/// The fixed schedule of one rank's ring all-reduce over <c>count</c> floats: n chunks cut as the
/// <see cref="ShardLayout"/> says (by default n equal chunks, the first count mod n one element longer),
/// 2(n-1) ring steps (n-1 reduce-scatter, n-1 all-gather), every chunk cut into segments. A gather-only plan
/// has the n-1 all-gather steps alone (each rank starts with its own chunk). At ring step t, rank r sends chunk (r-t) mod n and receives chunk (r-t-1) mod n during
/// reduce-scatter; during all-gather step s it sends chunk (r+1-s) mod n and receives chunk (r-s) mod n.
/// What a rank receives at step t is exactly what it sends at step t+1, segment by segment, which is what lets
/// segment j go on as soon as it has been received (and reduced).
/// </summary>
internal sealed class RingPlan
{
    public const byte ReduceScatter = 1;
    public const byte AllGather = 2;

    /// <summary>One segment of the schedule. <see cref="Forward"/>: a received segment that is sent on at the next ring step.</summary>
    public readonly record struct Item(byte Phase, ushort PhaseStep, int Chunk, int Segment, int Offset, int Length, bool Forward);

    public RingPlan(int size, int rank, int count, int segmentElements) : this(size, rank, count, segmentElements, ShardLayout.Equal(count, size), gatherOnly: false)
    {
    }

    /// <param name="reduceWire">How reduce-scatter segments travel; <paramref name="gatherWire"/>: all-gather segments.</param>
    public RingPlan(int size, int rank, int count, int segmentElements, ShardLayout layout, bool gatherOnly,
        WireFormat reduceWire = WireFormat.Fp32, WireFormat gatherWire = WireFormat.Fp32)
    {
        if (layout.Count != count || layout.Size != size) throw new ArgumentException($"the layout ({layout}) is not for {count} elements over {size} ranks", nameof(layout));
        if (size < 2) throw new ArgumentOutOfRangeException(nameof(size), size, "a ring plan needs at least two members");
        if (size > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(size), size, "a ring has at most 65535 members");
        Size = size;
        Rank = rank;
        Count = count;
        SegmentElements = segmentElements;
        Layout = layout;
        GatherOnly = gatherOnly;
        ReduceWire = reduceWire;
        GatherWire = gatherWire;
        var sends = new List<Item>();
        var receives = new List<Item>();
        int ringSteps = (gatherOnly ? 1 : 2) * (size - 1);
        for (int t = 0; t < ringSteps; t++)
        {
            bool reduce = !gatherOnly && t < size - 1;
            byte phase = reduce ? ReduceScatter : AllGather;
            ushort phaseStep = (ushort)(reduce || gatherOnly ? t : t - (size - 1));
            int sendChunk = reduce ? Mod(rank - t, size) : Mod(rank + 1 - phaseStep, size);
            int receiveChunk = reduce ? Mod(rank - t - 1, size) : Mod(rank - phaseStep, size);
            AddSegments(sends, phase, phaseStep, sendChunk, forward: false);
            AddSegments(receives, phase, phaseStep, receiveChunk, forward: t < ringSteps - 1);
            if (t == 0) InitialSends = sends.Count;
        }
        Sends = sends.ToArray();
        Receives = receives.ToArray();
        long payload = 0;
        foreach (var item in Sends) payload += (long)item.Length * WireOf(item.Phase).BytesPerElement();
        PayloadBytesSent = payload;
        foreach (var item in Receives) MaxSegmentElements = Math.Max(MaxSegmentElements, item.Length);
    }

    public int Size { get; }
    public int Rank { get; }
    public int Count { get; }
    public int SegmentElements { get; }
    public ShardLayout Layout { get; }
    public bool GatherOnly { get; }
    public WireFormat ReduceWire { get; }
    public WireFormat GatherWire { get; }

    /// <summary>How a segment of <paramref name="phase"/> travels.</summary>
    public WireFormat WireOf(byte phase) => phase == ReduceScatter ? ReduceWire : GatherWire;
    public Item[] Sends { get; }
    public Item[] Receives { get; }
    /// <summary>Segments that can be sent at once (ring step 0 sends the rank's own data).</summary>
    public int InitialSends { get; }
    public long PayloadBytesSent { get; }
    public int MaxSegmentElements { get; }

    public static string PhaseName(byte phase) => phase switch
    {
        ReduceScatter => "reduce-scatter",
        AllGather => "all-gather",
        _ => $"phase {phase}",
    };

    private void AddSegments(List<Item> items, byte phase, ushort phaseStep, int chunk, bool forward)
    {
        var (offset, length) = Layout.Chunk(chunk);
        int segment = 0;
        for (int start = 0; start < length; start += SegmentElements, segment++)
            items.Add(new Item(phase, phaseStep, chunk, segment, offset + start, Math.Min(SegmentElements, length - start), forward));
    }

    private static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;
}
