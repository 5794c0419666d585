namespace FaceCluster.Common.DataPlane;

/// <summary>
/// How a ring cuts a vector of <see cref="Count"/> floats into one contiguous range per rank: the range a rank
/// holds fully reduced after the reduce-scatter and sends to everyone in the all-gather. <see cref="Equal"/> is the
/// classic ring all-reduce; <see cref="Proportional"/> gives each rank a share of the vector in proportion to a weight
/// (its speed), so that work done per owned element (the sharded optimizer update) costs every rank about the same
/// time. The bytes on the wire are the same for any layout: every rank still sends and receives 2(n−1)/n·S on average.
/// Every member of a ring must use the same layout; a member that does not is caught by the frame headers.
/// </summary>
public sealed class ShardLayout : IEquatable<ShardLayout>
{
    // In ring chunk order: chunk c is the range owned by rank (c - 1) mod n (the reduce-scatter leaves rank r with chunk r + 1).
    private readonly int[] _chunkOffsets;
    private readonly int[] _chunkLengths;

    private ShardLayout(int count, int[] chunkLengths)
    {
        Count = count;
        _chunkLengths = chunkLengths;
        _chunkOffsets = new int[chunkLengths.Length];
        for (int c = 1; c < chunkLengths.Length; c++) _chunkOffsets[c] = _chunkOffsets[c - 1] + chunkLengths[c - 1];
    }

    /// <summary>Elements in the vector.</summary>
    public int Count { get; }

    /// <summary>Ranks (ring members).</summary>
    public int Size => _chunkLengths.Length;

    /// <summary>The classic layout: n chunks of count/n (the first count mod n one element longer).</summary>
    public static ShardLayout Equal(int count, int size)
    {
        Validate(count, size);
        var lengths = new int[size];
        for (int c = 0; c < size; c++) lengths[c] = count / size + (c < count % size ? 1 : 0);
        return new ShardLayout(count, lengths);
    }

    /// <summary>
    /// Rank r owns about count × weights[r] / Σweights elements (largest remainders rounded up). Weights that are not
    /// finite or below 0 count as 0; when they all do, the layout is <see cref="Equal"/>.
    /// </summary>
    public static ShardLayout Proportional(int count, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int size = weights.Count;
        Validate(count, size);
        var w = weights.Select(x => double.IsFinite(x) && x > 0 ? x : 0).ToArray();
        double total = w.Sum();
        if (total <= 0) return Equal(count, size);
        var exact = w.Select(x => count * (x / total)).ToArray();
        var owned = exact.Select(x => (int)Math.Floor(x)).ToArray();
        int left = count - owned.Sum();
        foreach (int r in Enumerable.Range(0, size).OrderByDescending(r => exact[r] - owned[r]).ThenBy(r => r).Take(left)) owned[r]++;
        var lengths = new int[size];
        for (int r = 0; r < size; r++) lengths[(r + 1) % size] = owned[r];
        return new ShardLayout(count, lengths);
    }

    /// <summary>The range rank <paramref name="rank"/> owns.</summary>
    public (int Offset, int Length) RangeOf(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, Size);
        return Chunk((rank + 1) % Size);
    }

    /// <summary>First element and length of ring chunk <paramref name="chunk"/>.</summary>
    internal (int Offset, int Length) Chunk(int chunk) => (_chunkOffsets[chunk], _chunkLengths[chunk]);

    public bool Equals(ShardLayout? other) => other is not null && other.Count == Count && other._chunkLengths.AsSpan().SequenceEqual(_chunkLengths);

    public override bool Equals(object? obj) => Equals(obj as ShardLayout);

    public override int GetHashCode() => HashCode.Combine(Count, Size, _chunkLengths.Length > 0 ? _chunkLengths[0] : 0);

    public override string ToString() => $"{Count} elements as [{string.Join(", ", Enumerable.Range(0, Size).Select(r => RangeOf(r).Length))}] by rank";

    private static void Validate(int count, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "a layout needs at least one rank");
    }
}
