using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// The dedicated sending thread of a <see cref="RingSession"/>. For each all-reduce the receiving thread
/// calls <see cref="Begin"/>, then releases the plan's send items one by one as their data becomes ready
/// (all of ring step 0 at once; afterwards one per received-and-reduced segment). The thread writes each
/// segment's frame header and then the segment straight from the caller's buffer. Errors go to the session's
/// failure callback, which closes the sockets and so wakes the receiving thread.
/// </summary>
internal sealed class RingSender
{
    private readonly Socket _socket;
    private readonly long _generation;
    private readonly Action<Exception> _onError;
    private readonly CancellationToken _stop;
    private readonly SemaphoreSlim _ready = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private readonly Thread _thread;
    private float[]? _buffer;
    private int _offset;
    private RingPlan? _plan;
    private long _step;
    private int _next;
    private long _bytesSent;

    public RingSender(Socket socket, long generation, string threadName, Action<Exception> onError, CancellationToken stop)
    {
        _socket = socket;
        _generation = generation;
        _onError = onError;
        _stop = stop;
        _thread = new Thread(Run) { IsBackground = true, Name = threadName };
        _thread.Start();
    }

    /// <summary>Prepares a new all-reduce. Only called when the previous one is done (or none ran yet).</summary>
    /// <param name="offset">Where the plan's element 0 lies in <paramref name="buffer"/> (a bucket of a larger buffer).</param>
    public void Begin(float[] buffer, int offset, RingPlan plan, long step)
    {
        _buffer = buffer;
        _offset = offset;
        _plan = plan;
        _step = step;
        _next = 0;
        _bytesSent = 0;
        if (plan.Sends.Length == 0) _done.Set(); // e.g. a gather in which this rank owns nothing
        else _done.Reset();
    }

    /// <summary>Lets the thread send <paramref name="items"/> more items of the current plan.</summary>
    public void Release(int items)
    {
        if (items > 0) _ready.Release(items);
    }

    /// <summary>Waits until every item of the current plan has been written; returns the bytes written.</summary>
    public long WaitDone()
    {
        _done.Wait(_stop);
        return _bytesSent;
    }

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    private void Run()
    {
        Span<byte> header = stackalloc byte[RingFrameHeader.Size];
        ushort[] narrow = [];
        try
        {
            while (true)
            {
                _ready.Wait(_stop);
                RingPlan plan = _plan!;
                RingPlan.Item item = plan.Sends[_next];
                WireFormat wire = plan.WireOf(item.Phase);
                int payloadBytes = item.Length * wire.BytesPerElement();
                new RingFrameHeader(item.Phase, item.PhaseStep, _generation, _step, plan.Count, item.Chunk, item.Segment, payloadBytes, wire).Write(header);
                SocketIo.WriteAll(_socket, header);
                var segment = _buffer.AsSpan(_offset + item.Offset, item.Length);
                if (wire == WireFormat.Bf16)
                {
                    if (narrow.Length < item.Length) narrow = new ushort[plan.SegmentElements];
                    var encoded = narrow.AsSpan(0, item.Length);
                    BFloat16Codec.Encode(segment, encoded);
                    SocketIo.WriteAll(_socket, MemoryMarshal.AsBytes(encoded));
                }
                else
                {
                    SocketIo.WriteAll(_socket, MemoryMarshal.AsBytes(segment));
                }
                _bytesSent += RingFrameHeader.Size + payloadBytes;
                if (++_next == plan.Sends.Length) _done.Set();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _onError(e);
        }
    }
}
