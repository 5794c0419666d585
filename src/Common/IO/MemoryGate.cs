namespace FaceCluster.Common.IO;

/// <summary>
/// Bounds the bytes that threads hold at once (files read, images decoded): <see cref="Acquire"/> waits until the
/// bytes asked for fit under the capacity. A request larger than the capacity waits until nothing else is held, then
/// runs alone.
/// </summary>
public sealed class MemoryGate(long capacity)
{
    private readonly object _lock = new();
    private long _held;

    public long Capacity { get; } = Math.Max(1, capacity);

    /// <summary>Bytes held right now.</summary>
    public long Held { get { lock (_lock) return _held; } }

    public Reservation Acquire(long bytes, CancellationToken cancellationToken = default)
    {
        bytes = Math.Clamp(bytes, 0, Capacity);
        lock (_lock)
        {
            while (_held + bytes > Capacity)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_lock, 100);
            }
            _held += bytes;
        }
        return new Reservation(this, bytes);
    }

    private void Release(long bytes)
    {
        lock (_lock)
        {
            _held -= bytes;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Bytes held until disposed.</summary>
    public readonly struct Reservation(MemoryGate gate, long bytes) : IDisposable
    {
        public void Dispose() => gate?.Release(bytes);
    }
}
