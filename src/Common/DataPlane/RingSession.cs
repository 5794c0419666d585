using System.Diagnostics;
using System.Net.Sockets;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// One rank's membership of one ring generation: an authenticated connection to its successor (sent to by a
/// dedicated thread) and one from its predecessor (read by the thread that calls <see cref="AllReduceSum"/>).
/// Created by <see cref="DataPlaneEndpoint.JoinRing"/>. Any failure makes the session unusable: every later
/// call throws <see cref="AllReduceFailedException"/> at once and the owner joins the next generation.
/// </summary>
public sealed class RingSession : IDisposable
{
    private readonly Socket? _toSuccessor;
    private readonly Socket? _fromPredecessor;
    private readonly RingSender? _sender;
    private readonly DataPlaneOptions _options;
    private readonly ILogger _logger;
    private readonly Action<RingSession>? _onDisposed;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _failureGate = new();
    private Failure? _failure;
    private readonly List<RingPlan> _plans = []; // the last few (a bucketed step alternates between its buckets' plans)
    private float[]? _scratch;
    private ushort[]? _narrowScratch;
    private int _busy;
    private int _disposed;
    private long _currentStep = -1;
    private AllReduceStats? _lastStats;
    private AllReduceTotals _totals = AllReduceTotals.Zero;

    internal RingSession(RingSpec spec, int rank, Socket? toSuccessor, Socket? fromPredecessor, TimeSpan timeout,
        DataPlaneOptions options, ILogger logger, Action<RingSession>? onDisposed)
    {
        Spec = spec;
        Rank = rank;
        Timeout = timeout;
        _options = options;
        _logger = logger;
        _onDisposed = onDisposed;
        _toSuccessor = toSuccessor;
        _fromPredecessor = fromPredecessor;
        if (toSuccessor is not null && fromPredecessor is not null)
        {
            int millis = (int)Math.Ceiling(timeout.TotalMilliseconds);
            toSuccessor.SendTimeout = millis;
            fromPredecessor.ReceiveTimeout = millis;
            _sender = new RingSender(toSuccessor, spec.Generation, $"fc-ring-send g{spec.Generation} r{rank}",
                e => Fail(e, Peer.Successor), _stop.Token);
        }
    }

    /// <summary>The ring this session belongs to.</summary>
    public RingSpec Spec { get; }

    /// <summary>The ring's generation.</summary>
    public long Generation => Spec.Generation;

    /// <summary>This member's rank.</summary>
    public int Rank { get; }

    /// <summary>Number of ring members.</summary>
    public int Size => Spec.Size;

    /// <summary>The endpoint this rank sends to.</summary>
    public string SuccessorEndpoint => Spec.MemberEndpoints[Spec.SuccessorOf(Rank)];

    /// <summary>The endpoint this rank receives from.</summary>
    public string PredecessorEndpoint => Spec.MemberEndpoints[Spec.PredecessorOf(Rank)];

    /// <summary>Longest a send or a receive may go without progress before the all-reduce fails.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>True once the session has failed or been disposed; every later <see cref="AllReduceSum"/> throws.</summary>
    public bool IsFaulted => Volatile.Read(ref _failure) is not null;

    /// <summary>Figures of the last completed all-reduce; null before the first.</summary>
    public AllReduceStats? LastStats => Volatile.Read(ref _lastStats);

    /// <summary>Running totals over every completed all-reduce of this session.</summary>
    public AllReduceTotals Totals => Volatile.Read(ref _totals);

    /// <summary>
    /// Sums <paramref name="buffer"/>[0..<paramref name="count"/>) in place across the ring, so that every member
    /// ends with the same element-wise sum. Every member must call it with the same count and step. Blocks the
    /// calling thread, which receives and reduces while the session's sender thread sends. Throws
    /// <see cref="AllReduceFailedException"/> on any socket error, a closed connection, a desynchronised peer or
    /// when a send or receive makes no progress within <see cref="Timeout"/>; the buffer's contents are then undefined.
    /// One call at a time per session.
    /// </summary>
    /// <param name="wire">How the numbers travel: bf16 halves the bytes; sums still add in float32, and every rank
    /// ends with the same values (each owner rounds its reduced range to bf16 before the all-gather sends it).</param>
    public void AllReduceSum(float[] buffer, int count, long step, WireFormat wire = WireFormat.Fp32) =>
        Collective(buffer, 0, count, step, null, gatherOnly: false, null, wire, wire);

    /// <summary>
    /// <see cref="AllReduceSum(float[], int, long)"/> with the ranks' ranges cut as <paramref name="layout"/> says, and
    /// a hook between the halves: as each segment of this rank's own range (<see cref="ShardLayout.RangeOf"/>) is
    /// fully reduced, <paramref name="onOwnedReduced"/>(offset, length) may rewrite it before it is sent on; the
    /// all-gather then hands every rank what the owners wrote. With a hook that replaces summed gradients by updated
    /// parameters, the buffer ends as the new parameters on every rank: a sharded optimizer step with the bytes of
    /// one all-reduce, the update pipelined with the transfer. A ring of one calls the hook once, on the whole vector.
    /// <paramref name="reduceWire"/> is how the reduce-scatter travels; with a hook the all-gather carries what the
    /// owners wrote (new parameters) and always travels in fp32, without one it travels as the reduce-scatter does.
    /// </summary>
    public void AllReduceSum(float[] buffer, int count, long step, ShardLayout layout, Action<int, int>? onOwnedReduced, WireFormat reduceWire = WireFormat.Fp32) =>
        Collective(buffer, 0, count, step, layout, gatherOnly: false, onOwnedReduced, reduceWire, onOwnedReduced is null ? reduceWire : WireFormat.Fp32);

    /// <summary>
    /// The same over one bucket, <paramref name="buffer"/>[<paramref name="offset"/>..+<paramref name="count"/>): the
    /// layout cuts the bucket's elements, and the hook receives offsets into the whole buffer. A step that reduces its
    /// gradients bucket by bucket (while backward computes the next) calls this once per bucket, every rank in the same order.
    /// </summary>
    public void AllReduceSum(float[] buffer, int offset, int count, long step, ShardLayout layout, Action<int, int>? onOwnedReduced, WireFormat reduceWire = WireFormat.Fp32) =>
        Collective(buffer, offset, count, step, layout, gatherOnly: false, onOwnedReduced, reduceWire, onOwnedReduced is null ? reduceWire : WireFormat.Fp32);

    /// <summary>
    /// Every rank ends with every owner's range of <paramref name="buffer"/> (the ranges as <paramref name="layout"/>
    /// cuts them): the all-gather half alone. Same failure behaviour as <see cref="AllReduceSum(float[], int, long)"/>.
    /// </summary>
    public void AllGather(float[] buffer, int count, long step, ShardLayout layout) =>
        Collective(buffer, 0, count, step, layout, gatherOnly: true, null, WireFormat.Fp32, WireFormat.Fp32);

    /// <summary>The all-gather of one bucket, <paramref name="buffer"/>[<paramref name="offset"/>..+<paramref name="count"/>).</summary>
    public void AllGather(float[] buffer, int offset, int count, long step, ShardLayout layout) =>
        Collective(buffer, offset, count, step, layout, gatherOnly: true, null, WireFormat.Fp32, WireFormat.Fp32);

    private void Collective(float[] buffer, int offset, int count, long step, ShardLayout? layout, bool gatherOnly, Action<int, int>? onOwnedReduced,
        WireFormat reduceWire, WireFormat gatherWire)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0 || offset > buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset must be in [0, {buffer.Length}] (the buffer's length)");
        if (count < 0 || count > buffer.Length - offset)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in [0, {buffer.Length - offset}] (the buffer's length after offset {offset})");
        if (layout is not null && (layout.Count != count || layout.Size != Size))
            throw new ArgumentException($"the layout ({layout}) is not for {count} elements over this ring's {Size} ranks", nameof(layout));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfFailed(step);
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"a collective is already running on the ring session of generation {Generation}, rank {Rank}; call it from one thread at a time");
        try
        {
            Volatile.Write(ref _currentStep, step);
            var clock = Stopwatch.StartNew();
            if (_sender is null || count == 0)
            {
                if (onOwnedReduced is not null && count > 0) onOwnedReduced(offset, count);
                Record(new AllReduceStats(step, count, 0, 0, 0, clock.Elapsed));
                return;
            }
            RingPlan plan = PlanFor(count, layout ?? ShardLayout.Equal(count, Size), gatherOnly, reduceWire, gatherWire);
            long received;
            long sent;
            try
            {
                received = ReceiveAndReduce(buffer, offset, plan, step, onOwnedReduced);
                sent = _sender.WaitDone();
            }
            catch (Exception e) when (e is not AllReduceFailedException)
            {
                Fail(e, Peer.Predecessor);
                throw FailureException(step);
            }
            Record(new AllReduceStats(step, count, sent, received, plan.PayloadBytesSent, clock.Elapsed));
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Closes both connections at once (waking a thread blocked in <see cref="AllReduceSum"/>, which then throws) and stops the sender thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Fail(new ObjectDisposedException(nameof(RingSession), "the ring session was disposed"), Peer.None);
        _sender?.Join(TimeSpan.FromSeconds(5));
        _onDisposed?.Invoke(this);
    }

    private long ReceiveAndReduce(float[] buffer, int offset, RingPlan plan, long step, Action<int, int>? onOwnedReduced)
    {
        Socket socket = _fromPredecessor!;
        RingSender sender = _sender!;
        float[] scratch = ScratchFor(plan);
        sender.Begin(buffer, offset, plan, step);
        sender.Release(plan.InitialSends);
        Span<byte> headerBytes = stackalloc byte[RingFrameHeader.Size];
        long received = 0;
        foreach (RingPlan.Item item in plan.Receives)
        {
            SocketIo.ReadExactly(socket, headerBytes);
            WireFormat wire = plan.WireOf(item.Phase);
            var expected = new RingFrameHeader(item.Phase, item.PhaseStep, Generation, step, plan.Count, item.Chunk, item.Segment, item.Length * wire.BytesPerElement(), wire);
            if (!RingFrameHeader.TryRead(headerBytes, out var got))
                throw new InvalidDataException($"received bytes that are not a data-plane frame where {expected} was due");
            if (got != expected)
                throw new InvalidDataException($"the peer is out of step: expected frame {expected}, received {got}");
            Span<float> target = buffer.AsSpan(offset + item.Offset, item.Length);
            if (item.Phase == RingPlan.ReduceScatter)
            {
                if (wire == WireFormat.Bf16)
                {
                    // Half the bytes: the whole segment in one read (small reads cost more wake-ups than they save), then added.
                    Span<ushort> narrow = NarrowScratch(plan.MaxSegmentElements).AsSpan(0, item.Length);
                    SocketIo.ReadExactly(socket, MemoryMarshal.AsBytes(narrow));
                    BFloat16Codec.AddDecoded(target, narrow);
                }
                else
                {
                    // Reduce block by block, while the received bytes are still in cache.
                    for (int start = 0; start < item.Length; start += scratch.Length)
                    {
                        int length = Math.Min(scratch.Length, item.Length - start);
                        Span<float> into = target.Slice(start, length);
                        Span<float> incoming = scratch.AsSpan(0, length);
                        SocketIo.ReadExactly(socket, MemoryMarshal.AsBytes(incoming));
                        TensorPrimitives.Add(into, incoming, into);
                    }
                }
                // The last reduce-scatter step brings this rank's own range: it is complete once added.
                if (item.PhaseStep == Size - 2)
                {
                    // Sent on in bf16, it must hold bf16 values here too, or this rank would keep more bits than the others receive.
                    if (plan.GatherWire == WireFormat.Bf16 && !plan.GatherOnly) BFloat16Codec.RoundInPlace(target);
                    onOwnedReduced?.Invoke(offset + item.Offset, item.Length);
                }
            }
            else if (wire == WireFormat.Bf16)
            {
                Span<ushort> narrow = NarrowScratch(plan.MaxSegmentElements).AsSpan(0, item.Length);
                SocketIo.ReadExactly(socket, MemoryMarshal.AsBytes(narrow));
                BFloat16Codec.Decode(narrow, target);
            }
            else
            {
                SocketIo.ReadExactly(socket, MemoryMarshal.AsBytes(target));
            }
            received += RingFrameHeader.Size + (long)item.Length * wire.BytesPerElement();
            if (item.Forward) sender.Release(1);
        }
        return received;
    }

    private RingPlan PlanFor(int count, ShardLayout layout, bool gatherOnly, WireFormat reduceWire, WireFormat gatherWire)
    {
        foreach (var cached in _plans)
            if (cached.GatherOnly == gatherOnly && cached.Count == count && cached.Layout.Equals(layout) && cached.ReduceWire == reduceWire && cached.GatherWire == gatherWire)
                return cached;
        var plan = new RingPlan(Size, Rank, count, _options.SegmentElements, layout, gatherOnly, reduceWire, gatherWire);
        if (_plans.Count == 8) _plans.RemoveAt(0);
        _plans.Add(plan);
        return plan;
    }

    private float[] ScratchFor(RingPlan plan)
    {
        int elements = Math.Min(plan.MaxSegmentElements, _options.ReduceBlockBytes / sizeof(float));
        if (_scratch is null || _scratch.Length < elements)
            _scratch = new float[elements];
        return _scratch;
    }

    private ushort[] NarrowScratch(int elements)
    {
        if (_narrowScratch is null || _narrowScratch.Length < elements) _narrowScratch = new ushort[elements];
        return _narrowScratch;
    }

    private void Record(AllReduceStats stats)
    {
        Volatile.Write(ref _lastStats, stats);
        Volatile.Write(ref _totals, _totals.Add(stats));
    }

    private void ThrowIfFailed(long step)
    {
        Failure? failure = Volatile.Read(ref _failure);
        if (failure is null) return;
        throw new AllReduceFailedException(
            $"the ring session of generation {Generation} (rank {Rank} of {Size}) is unusable after an earlier failure: {failure.Description}; join the next ring generation",
            failure.PeerEndpoint, Generation, step, failure.Cause);
    }

    private AllReduceFailedException FailureException(long step)
    {
        Failure failure = Volatile.Read(ref _failure)!;
        return new AllReduceFailedException(
            $"all-reduce of step {step} in ring generation {Generation} (rank {Rank} of {Size}) failed: {failure.Description}",
            failure.PeerEndpoint, Generation, step, failure.Cause);
    }

    /// <summary>Records the first failure, then closes both sockets so the peers (and our other thread) notice at once.</summary>
    private void Fail(Exception cause, Peer peer)
    {
        lock (_failureGate)
        {
            if (_failure is not null) return;
            Volatile.Write(ref _failure, Describe(cause, peer));
        }
        _stop.Cancel();
        SocketIo.CloseQuietly(_toSuccessor);
        SocketIo.CloseQuietly(_fromPredecessor);
        if (peer != Peer.None)
            _logger.LogWarning("Ring generation {Generation} rank {Rank}: all-reduce of step {Step} failed: {Reason}",
                Generation, Rank, Volatile.Read(ref _currentStep), _failure!.Description);
    }

    private Failure Describe(Exception cause, Peer peer)
    {
        if (peer == Peer.None)
            return new Failure("the session was disposed", PredecessorEndpoint, cause);
        string endpoint = peer == Peer.Successor ? SuccessorEndpoint : PredecessorEndpoint;
        int rank = peer == Peer.Successor ? Spec.SuccessorOf(Rank) : Spec.PredecessorOf(Rank);
        string who = $"{(peer == Peer.Successor ? "successor" : "predecessor")} rank {rank} at {endpoint}";
        string what = cause switch
        {
            SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock } when peer == Peer.Successor =>
                $"{who} accepted no data for {Timeout.TotalSeconds:0.###} s",
            SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock } =>
                $"no data from {who} for {Timeout.TotalSeconds:0.###} s",
            EndOfStreamException => $"{who} closed the connection",
            InvalidDataException => $"{who}: {cause.Message}",
            SocketException se => $"the connection to {who} failed: {se.Message} ({se.SocketErrorCode})",
            ObjectDisposedException or OperationCanceledException => $"the connection to {who} was closed",
            _ => $"the connection to {who} failed: {cause.GetType().Name}: {cause.Message}",
        };
        return new Failure(what, endpoint, cause);
    }

    private enum Peer { None, Predecessor, Successor }

    private sealed record Failure(string Description, string PeerEndpoint, Exception Cause);
}
