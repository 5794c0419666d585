namespace FaceCluster.Common.FaceSet;

/// <summary>
/// A bounded, thread-safe LRU cache of decoded and resized images (size×size×3 BGR bytes), so repeated
/// epochs skip reading and decoding. Bounded by pixel bytes: adding past the capacity evicts the least
/// recently used images. Entries are keyed by sample id and size and checked against the sample's
/// content hash, so an entry for content that has since changed is never returned.
/// Returned arrays are shared: callers must not write to them.
/// </summary>
public sealed class DecodedImageCache
{
    private readonly object _gate = new();
    private readonly Dictionary<(int Id, int Size), LinkedListNode<Entry>> _map = new();
    private readonly LinkedList<Entry> _lru = new();
    private long _sizeBytes;
    private long _hits;
    private long _misses;

    public DecodedImageCache(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
    }

    public long CapacityBytes { get; }

    public long SizeBytes { get { lock (_gate) return _sizeBytes; } }

    public int Count { get { lock (_gate) return _map.Count; } }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The cached BGR pixels of <paramref name="sample"/> at <paramref name="size"/>, if present.</summary>
    public bool TryGet(FaceSample sample, int size, out byte[] pixels)
    {
        lock (_gate)
        {
            if (_map.TryGetValue((sample.Id, size), out var node))
            {
                if (node.Value.ContentHash == sample.ContentHash)
                {
                    _lru.Remove(node);
                    _lru.AddFirst(node);
                    _hits++;
                    pixels = node.Value.Pixels;
                    return true;
                }
                RemoveNode(node);
            }
            _misses++;
        }
        pixels = [];
        return false;
    }

    /// <summary>Stores pixels (not copied; the caller must not change them afterwards). Images larger than
    /// the whole capacity are not stored.</summary>
    public void Add(FaceSample sample, int size, byte[] pixels)
    {
        if (pixels.LongLength > CapacityBytes) return;
        lock (_gate)
        {
            if (_map.TryGetValue((sample.Id, size), out var existing)) RemoveNode(existing);
            var node = _lru.AddFirst(new Entry(sample.Id, size, sample.ContentHash, pixels));
            _map[(sample.Id, size)] = node;
            _sizeBytes += pixels.LongLength;
            while (_sizeBytes > CapacityBytes && _lru.Last is { } last) RemoveNode(last);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _map.Clear();
            _lru.Clear();
            _sizeBytes = 0;
        }
    }

    private void RemoveNode(LinkedListNode<Entry> node)
    {
        _lru.Remove(node);
        _map.Remove((node.Value.Id, node.Value.Size));
        _sizeBytes -= node.Value.Pixels.LongLength;
    }

    private sealed record Entry(int Id, int Size, string ContentHash, byte[] Pixels);
}
