using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// A worker's data-plane endpoint: one TCP listener that carries tensors between workers outside Akka.
/// Every incoming connection must first complete the authentication handshake (<see cref="HandshakeProtocol"/>):
/// both sides prove they hold the cluster's shared secret without sending it. A connection then either becomes
/// the predecessor link of a ring this endpoint is joining (<see cref="JoinRing"/>) or is served a state
/// snapshot (<see cref="SetStateProvider"/>, fetched with <see cref="FetchState"/>).
/// </summary>
public sealed partial class DataPlaneEndpoint : IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan RefusalSendLimit = TimeSpan.FromSeconds(1);
    private readonly byte[] _secret;
    private readonly ILogger _logger;
    private readonly DataPlaneOptions _options;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _closing = new();
    private readonly SemaphoreSlim _connectionSlots;
    private readonly ConcurrentDictionary<Socket, byte> _incoming = new();
    private readonly object _gate = new();
    private readonly Dictionary<long, RingSlot> _slots = [];
    private readonly HashSet<RingSession> _sessions = [];
    private readonly Task _acceptLoop;
    private TaskCompletionSource _slotsChanged = NewSignal();
    private long _latestGeneration = -1;
    private Func<StateSnapshot?>? _stateProvider;
    private int _disposed;

    /// <summary>
    /// Starts listening on <paramref name="bindAddress"/>:<paramref name="port"/> (0 picks a free port).
    /// <paramref name="advertisedHost"/> is the host other workers should dial; by default the bind address, or
    /// for a wildcard bind the first non-loopback IPv4 address of this machine.
    /// </summary>
    public DataPlaneEndpoint(IPAddress bindAddress, int port, byte[] sharedSecret, ILogger logger,
        DataPlaneOptions? options = null, string? advertisedHost = null)
    {
        ArgumentNullException.ThrowIfNull(bindAddress);
        ArgumentNullException.ThrowIfNull(sharedSecret);
        ArgumentNullException.ThrowIfNull(logger);
        if (sharedSecret.Length == 0) throw new ArgumentException("the cluster's shared secret must not be empty", nameof(sharedSecret));
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "a TCP port is between 0 and 65535");
        _options = options ?? DataPlaneOptions.Default;
        _options.Validate();
        _logger = logger;
        _secret = sharedSecret.ToArray();
        _listener = new Socket(bindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bindAddress.Equals(IPAddress.IPv6Any)) _listener.DualMode = true;
            SocketIo.ConfigureBuffers(_listener, _options);
            _listener.Bind(new IPEndPoint(bindAddress, port));
            _listener.Listen(128);
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            throw new FaceClusterException(
                $"the data plane cannot listen on {EndpointAddress.Format(bindAddress.ToString(), port)}: {e.Message}", ExitCodes.UserError, e);
        }
        BoundEndpoint = (IPEndPoint)_listener.LocalEndPoint!;
        AdvertisedEndpoint = EndpointAddress.Format(advertisedHost ?? DefaultAdvertisedHost(bindAddress), BoundEndpoint.Port);
        _connectionSlots = new SemaphoreSlim(_options.MaxIncomingConnections);
        _acceptLoop = Task.Run(AcceptLoopAsync);
        _logger.LogInformation("Data plane listening on {Bound}, advertised as {Advertised}", EndpointAddress.Format(BoundEndpoint), AdvertisedEndpoint);
    }

    /// <summary>The address and port the listener is bound to.</summary>
    public IPEndPoint BoundEndpoint { get; }

    /// <summary>"host:port" that other workers dial; this is what goes into a <see cref="RingSpec"/>.</summary>
    public string AdvertisedEndpoint { get; }

    /// <summary>The newest ring generation this endpoint has joined (or is joining); -1 before the first.</summary>
    public long LatestGeneration
    {
        get { lock (_gate) return _latestGeneration; }
    }

    /// <summary>
    /// Sets what is served to <see cref="FetchState"/> callers: called once per request on a pool thread; may
    /// return null when there is no state to give. The returned payload must not change while it is sent.
    /// </summary>
    public void SetStateProvider(Func<StateSnapshot?>? provider) => Volatile.Write(ref _stateProvider, provider);

    /// <summary>
    /// Joins <paramref name="spec"/> as <paramref name="myRank"/>: connects to the successor and accepts exactly the
    /// predecessor, both authenticated and checked for the same generation and member list. Returns once both
    /// links stand. Throws <see cref="AllReduceFailedException"/> (Step -1) when that does not happen within
    /// <paramref name="timeout"/>, a peer refuses, or the generation is older than one this endpoint already joined.
    /// <paramref name="timeout"/> is also the session's progress timeout for every all-reduce.
    /// </summary>
    public RingSession JoinRing(RingSpec spec, int myRank, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        JoinRingAsync(spec, myRank, timeout, cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc cref="JoinRing"/>
    public async Task<RingSession> JoinRingAsync(RingSpec spec, int myRank, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate(myRank);
        if (timeout <= TimeSpan.Zero || timeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the ring timeout must be positive and under 24 days");
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        long generation = spec.Generation;
        int size = spec.Size;
        int predecessor = spec.PredecessorOf(myRank), successor = spec.SuccessorOf(myRank);
        string predecessorEndpoint = spec.MemberEndpoints[predecessor], successorEndpoint = spec.MemberEndpoints[successor];
        ulong fingerprint = spec.Fingerprint();
        var slot = new RingSlot(generation, myRank, size, predecessor, fingerprint);
        lock (_gate)
        {
            if (generation < _latestGeneration)
                throw new AllReduceFailedException(
                    $"cannot join ring generation {generation} as rank {myRank}: stale generation, this endpoint has already joined generation {_latestGeneration}",
                    predecessorEndpoint, generation, -1);
            if (_slots.TryGetValue(generation, out var existing) && !existing.Closed)
                throw new InvalidOperationException($"ring generation {generation} is already being joined on this endpoint");
            _latestGeneration = generation;
            foreach (RingSlot old in _slots.Values.Where(s => s.Generation < generation).ToList())
            {
                _slots.Remove(old.Generation);
                old.Accepted.TrySetException(new DataPlaneHandshakeException(
                    $"ring generation {old.Generation} was superseded by generation {generation} before its predecessor connected",
                    HandshakeRejection.StaleGeneration, predecessorEndpoint));
            }
            if (size > 1) _slots[generation] = slot;
            SignalSlotsChanged();
        }
        if (size == 1)
            return Track(new RingSession(spec, myRank, null, null, timeout, _options, _logger, Untrack));

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        linked.CancelAfter(timeout);
        var lastConnectError = new StrongBox<Exception?>();
        var hello = new HelloMessage(HandshakeProtocol.Version, DataPlanePurpose.Ring, generation, myRank, successor, size, fingerprint);
        Task<Socket> connect = ConnectWithRetryAsync(successorEndpoint, hello, lastConnectError, linked.Token);
        Task<Socket> accept = slot.Accepted.Task.WaitAsync(linked.Token);
        Task first = await Task.WhenAny(connect, accept).ConfigureAwait(false);
        if (!first.IsCompletedSuccessfully) linked.Cancel();
        try { await Task.WhenAll(connect, accept).ConfigureAwait(false); }
        catch (Exception) { /* each task's outcome is examined below */ }
        lock (_gate)
        {
            // The slot stays (closed) until a newer generation replaces it: a late connection for this generation
            // still authenticates and then learns that the join is over, instead of waiting for its timeout.
            slot.Closed = true;
        }
        Socket? toSuccessor = connect.IsCompletedSuccessfully ? connect.Result : null;
        // After Closed is set no socket can arrive any more, so this is the final answer.
        Socket? fromPredecessor = slot.Accepted.Task.IsCompletedSuccessfully ? slot.Accepted.Task.Result : null;
        if (toSuccessor is not null && fromPredecessor is not null)
        {
            _logger.LogInformation("Joined ring generation {Generation} as rank {Rank} of {Size}: sending to {Successor}, receiving from {Predecessor}",
                generation, myRank, size, successorEndpoint, predecessorEndpoint);
            return Track(new RingSession(spec, myRank, toSuccessor, fromPredecessor, timeout, _options, _logger, Untrack));
        }
        SocketIo.CloseQuietly(toSuccessor);
        SocketIo.CloseQuietly(fromPredecessor);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);

        string where = $"joining ring generation {generation} as rank {myRank} of {size} failed";
        AllReduceFailedException failure;
        if (Faulted(first) is { } firstError)
            failure = JoinFailure(where, first == connect, firstError);
        else if (Faulted(connect) is { } connectError)
            failure = JoinFailure(where, true, connectError);
        else if (Faulted(accept) is { } acceptError)
            failure = JoinFailure(where, false, acceptError);
        else if (toSuccessor is null)
            failure = new AllReduceFailedException(
                $"{where}: could not connect to successor rank {successor} at {successorEndpoint} within {timeout.TotalSeconds:0.###} s"
                + (lastConnectError.Value is { } last ? $" (last attempt: {last.Message})" : ""),
                successorEndpoint, generation, -1, lastConnectError.Value);
        else
            failure = new AllReduceFailedException(
                $"{where}: predecessor rank {predecessor} at {predecessorEndpoint} did not connect within {timeout.TotalSeconds:0.###} s",
                predecessorEndpoint, generation, -1);
        _logger.LogWarning("{Failure}", failure.Message);
        throw failure;

        AllReduceFailedException JoinFailure(string prefix, bool toSucc, Exception error) => new(
            toSucc
                ? $"{prefix}: connecting to successor rank {successor} at {successorEndpoint}: {error.Message}"
                : $"{prefix}: waiting for predecessor rank {predecessor} at {predecessorEndpoint}: {error.Message}",
            toSucc ? successorEndpoint : predecessorEndpoint, generation, -1, error);
    }

    /// <summary>
    /// Fetches a peer's state snapshot: authenticates (purpose "state"), streams the payload into one array and
    /// verifies its SHA-256. <paramref name="timeout"/> bounds the handshake and every wait for more data.
    /// Throws <see cref="StateTransferException"/> when refused, interrupted, timed out or corrupted.
    /// </summary>
    public static StateSnapshot FetchState(string peerEndpoint, byte[] sharedSecret, TimeSpan timeout,
        CancellationToken cancellationToken = default, ILogger? logger = null, DataPlaneOptions? options = null) =>
        FetchStateAsync(peerEndpoint, sharedSecret, timeout, cancellationToken, logger, options).GetAwaiter().GetResult();

    /// <inheritdoc cref="FetchState"/>
    public static Task<StateSnapshot> FetchStateAsync(string peerEndpoint, byte[] sharedSecret, TimeSpan timeout,
        CancellationToken cancellationToken = default, ILogger? logger = null, DataPlaneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sharedSecret);
        if (sharedSecret.Length == 0) throw new ArgumentException("the cluster's shared secret must not be empty", nameof(sharedSecret));
        if (!EndpointAddress.TryParse(peerEndpoint, out _, out _))
            throw new ArgumentException($"the state peer '{peerEndpoint}' is not host:port", nameof(peerEndpoint));
        if (timeout <= TimeSpan.Zero || timeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the state-transfer timeout must be positive and under 24 days");
        options ??= DataPlaneOptions.Default;
        options.Validate();
        return StateTransfer.FetchAsync(peerEndpoint, sharedSecret, timeout, options,
            logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancellationToken);
    }

    /// <summary>Stops listening, closes connections in progress and disposes the ring sessions this endpoint created.</summary>
    public void Dispose()
    {
        if (!BeginShutdown()) return;
        try { _acceptLoop.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        CryptographicOperations.ZeroMemory(_secret);
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (!BeginShutdown()) return;
        try { await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
        CryptographicOperations.ZeroMemory(_secret);
    }

    private bool BeginShutdown()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return false;
        _closing.Cancel();
        _listener.Dispose();
        foreach (Socket socket in _incoming.Keys) SocketIo.CloseQuietly(socket);
        RingSession[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions];
            _sessions.Clear();
            foreach (RingSlot slot in _slots.Values)
                slot.Accepted.TrySetException(new ObjectDisposedException(nameof(DataPlaneEndpoint)));
            _slots.Clear();
            SignalSlotsChanged();
        }
        foreach (RingSession session in sessions) session.Dispose();
        _logger.LogInformation("Data plane on {Bound} closed", EndpointAddress.Format(BoundEndpoint));
        return true;
    }

    private Task<Socket> ConnectWithRetryAsync(string endpoint, HelloMessage hello, StrongBox<Exception?> lastError, CancellationToken cancellationToken) =>
        DataPlaneConnector.ConnectRetryingAsync(endpoint, _secret, hello, _options, null, IsWorthRetrying, e =>
        {
            lastError.Value = e;
            _logger.LogDebug("Ring generation {Generation}: {Endpoint} not ready yet ({Reason}); retrying", hello.Generation, endpoint, e.Message);
        }, _logger, cancellationToken);

    private static bool IsWorthRetrying(Exception e) => e switch
    {
        SocketException se => se.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset
            or SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TryAgain,
        DataPlaneHandshakeException he => he.Reason is HandshakeRejection.UnknownGeneration or HandshakeRejection.TooManyConnections,
        _ => false,
    };

    private static Exception? Faulted(Task task) =>
        task.IsFaulted ? task.Exception!.InnerExceptions.Count == 1 ? task.Exception.InnerException : task.Exception : null;

    private RingSession Track(RingSession session)
    {
        lock (_gate) _sessions.Add(session);
        return session;
    }

    private void Untrack(RingSession session)
    {
        lock (_gate) _sessions.Remove(session);
    }

    private void SignalSlotsChanged()
    {
        TaskCompletionSource previous = _slotsChanged;
        _slotsChanged = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static string DefaultAdvertisedHost(IPAddress bindAddress)
    {
        if (!bindAddress.Equals(IPAddress.Any) && !bindAddress.Equals(IPAddress.IPv6Any))
            return bindAddress.ToString();
        try
        {
            foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
                foreach (UnicastIPAddressInformation address in nic.GetIPProperties().UnicastAddresses)
                    if (address.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address.Address))
                        return address.Address.ToString();
            }
        }
        catch (NetworkInformationException)
        {
        }
        return Dns.GetHostName();
    }

    /// <summary>A ring generation this endpoint is joining: who may connect, and where the accepted socket goes.</summary>
    private sealed class RingSlot(long generation, int rank, int size, int predecessorRank, ulong fingerprint)
    {
        public long Generation { get; } = generation;
        public int Rank { get; } = rank;
        public int Size { get; } = size;
        public int PredecessorRank { get; } = predecessorRank;
        public ulong Fingerprint { get; } = fingerprint;
        public TaskCompletionSource<Socket> Accepted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>The predecessor's connection was accepted. Guarded by the endpoint's gate.</summary>
        public bool Taken { get; set; }
        /// <summary>The local join has ended (formed or failed); nothing more is accepted. Guarded by the endpoint's gate.</summary>
        public bool Closed { get; set; }
    }
}
