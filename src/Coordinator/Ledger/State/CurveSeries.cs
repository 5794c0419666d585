using System.Buffers.Binary;

namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>
/// A downsampled loss curve: buckets of <c>Width</c> steps (sum and count of losses). When there are more than
/// the maximum, neighbouring buckets merge and the width doubles, so memory stays bounded however long the run.
/// </summary>
internal sealed class CurveSeries
{
    private readonly int _max;
    private readonly List<long> _start = new();
    private readonly List<double> _sum = new();
    private readonly List<long> _count = new();

    public CurveSeries(string name, int maxPoints)
    {
        Name = name;
        _max = maxPoints;
    }

    public string Name { get; }
    public long Width { get; private set; } = 1;
    public bool Dirty { get; set; }
    public int Points => _start.Count;

    public void Add(long step, double sum, long count)
    {
        if (count <= 0) return;
        long key = Math.Max(0, step) / Width * Width;
        int n = _start.Count;
        if (n > 0 && _start[n - 1] == key) { _sum[n - 1] += sum; _count[n - 1] += count; }
        else if (n == 0 || _start[n - 1] < key) { _start.Add(key); _sum.Add(sum); _count.Add(count); }
        else
        {
            int at = _start.BinarySearch(key);
            if (at >= 0) { _sum[at] += sum; _count[at] += count; }
            else { at = ~at; _start.Insert(at, key); _sum.Insert(at, sum); _count.Insert(at, count); }
        }
        Dirty = true;
        while (_start.Count > _max) Halve();
    }

    private void Halve()
    {
        Width *= 2;
        int w = 0;
        for (int i = 0; i < _start.Count; i++)
        {
            long key = _start[i] / Width * Width;
            if (w > 0 && _start[w - 1] == key) { _sum[w - 1] += _sum[i]; _count[w - 1] += _count[i]; continue; }
            _start[w] = key; _sum[w] = _sum[i]; _count[w] = _count[i]; w++;
        }
        _start.RemoveRange(w, _start.Count - w);
        _sum.RemoveRange(w, _sum.Count - w);
        _count.RemoveRange(w, _count.Count - w);
    }

    /// <summary>The curve with at most <paramref name="maxPoints"/> points (consecutive buckets merged).</summary>
    public LossCurve ToCurve(int maxPoints)
    {
        int n = _start.Count;
        int group = Math.Max(1, (n + Math.Max(1, maxPoints) - 1) / Math.Max(1, maxPoints));
        int m = (n + group - 1) / group;
        var steps = new long[m];
        var mean = new double[m];
        var records = new long[m];
        for (int g = 0; g < m; g++)
        {
            double s = 0; long c = 0;
            for (int i = g * group; i < Math.Min(n, (g + 1) * group); i++) { s += _sum[i]; c += _count[i]; }
            steps[g] = _start[g * group];
            mean[g] = c > 0 ? s / c : double.NaN;
            records[g] = c;
        }
        return new LossCurve(Name, steps, mean, records);
    }

    /// <summary>The buckets as bytes: width, then (start, sum, count) per bucket.</summary>
    public byte[] Serialize()
    {
        var bytes = new byte[8 + _start.Count * 24];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, Width);
        for (int i = 0; i < _start.Count; i++)
        {
            var span = bytes.AsSpan(8 + i * 24);
            BinaryPrimitives.WriteInt64LittleEndian(span, _start[i]);
            BinaryPrimitives.WriteDoubleLittleEndian(span[8..], _sum[i]);
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], _count[i]);
        }
        return bytes;
    }

    public static CurveSeries Deserialize(string name, int maxPoints, ReadOnlySpan<byte> bytes)
    {
        var series = new CurveSeries(name, maxPoints);
        if (bytes.Length < 8 || (bytes.Length - 8) % 24 != 0) throw new InvalidDataException($"curve '{name}' has {bytes.Length} bytes, not 8 + 24·n");
        series.Width = Math.Max(1, BinaryPrimitives.ReadInt64LittleEndian(bytes));
        for (int at = 8; at < bytes.Length; at += 24)
        {
            series._start.Add(BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]));
            series._sum.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes[(at + 8)..]));
            series._count.Add(BinaryPrimitives.ReadInt64LittleEndian(bytes[(at + 16)..]));
        }
        while (series._start.Count > maxPoints) series.Halve();
        return series;
    }
}
