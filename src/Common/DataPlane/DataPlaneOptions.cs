namespace FaceCluster.Common.DataPlane;

/// <summary>
/// Tuning of a <see cref="DataPlaneEndpoint"/> and the ring sessions it creates. The defaults were
/// measured with <c>facecluster bench allreduce</c> on loopback; every field is validated when an
/// endpoint is created.
/// </summary>
public sealed record DataPlaneOptions
{
    /// <summary>The defaults.</summary>
    public static DataPlaneOptions Default { get; } = new();

    /// <summary>
    /// Size of one pipelined all-reduce segment (the unit that is sent, received, reduced and forwarded).
    /// Rounded down to a whole number of floats. Smaller segments start forwarding sooner; larger ones
    /// cost fewer syscalls and frame headers.
    /// </summary>
    public int SegmentBytes { get; init; } = 512 * 1024;

    /// <summary>
    /// Reduce-scatter data is received and added in blocks of this size (at most one segment), so that the
    /// addition reads the received floats while they are still in cache.
    /// </summary>
    public int ReduceBlockBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// SO_SNDBUF / SO_RCVBUF for every data-plane socket. 0 (the default) leaves Linux's autotuning in charge,
    /// which grows each buffer to net.ipv4.tcp_wmem / tcp_rmem's maximum (several MB) as the connection needs it;
    /// an explicit size pins the buffer (capped by net.core.wmem_max / rmem_max) and turns autotuning off.
    /// `facecluster bench allreduce` measured autotuning faster than pinned 1 MiB or 4 MiB buffers on loopback.
    /// </summary>
    public int SocketBufferBytes { get; init; }

    /// <summary>
    /// How long an incoming or outgoing connection may take to finish the authentication handshake.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a connection that has not yet proved the secret may take to send each of its handshake messages
    /// (the hello, then the proof), and how long its ring hello may wait for the local
    /// <see cref="DataPlaneEndpoint.JoinRing"/> of its generation (a refused genuine peer asks again). Kept short so that
    /// idle or trickling strangers cannot hold the connection slots; capped by <see cref="HandshakeTimeout"/>.
    /// </summary>
    public TimeSpan UnauthenticatedTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a state-transfer server waits for a client that stops reading before it gives up.</summary>
    public TimeSpan StateServeIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Incoming connections handled at once (in their handshake, or being served state); more are closed at once.</summary>
    public int MaxIncomingConnections { get; init; } = 64;

    /// <summary>Smallest accepted <see cref="SegmentBytes"/>.</summary>
    public const int MinSegmentBytes = 64;

    /// <summary>Largest accepted <see cref="SegmentBytes"/>.</summary>
    public const int MaxSegmentBytes = 64 * 1024 * 1024;

    internal int SegmentElements => SegmentBytes / sizeof(float);

    /// <summary>The unauthenticated deadline in force: never longer than the whole handshake's.</summary>
    internal TimeSpan UnauthenticatedDeadline => UnauthenticatedTimeout < HandshakeTimeout ? UnauthenticatedTimeout : HandshakeTimeout;

    internal void Validate()
    {
        if (SegmentBytes is < MinSegmentBytes or > MaxSegmentBytes)
            throw new ArgumentOutOfRangeException(nameof(SegmentBytes), SegmentBytes, $"the data-plane segment size must be between {MinSegmentBytes} and {MaxSegmentBytes} bytes");
        if (ReduceBlockBytes is < MinSegmentBytes or > MaxSegmentBytes)
            throw new ArgumentOutOfRangeException(nameof(ReduceBlockBytes), ReduceBlockBytes, $"the reduce block size must be between {MinSegmentBytes} and {MaxSegmentBytes} bytes");
        if (SocketBufferBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(SocketBufferBytes), SocketBufferBytes, "the socket buffer size must be 0 (kernel default) or positive");
        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout, "the handshake timeout must be positive and under 24 days");
        if (UnauthenticatedTimeout <= TimeSpan.Zero || UnauthenticatedTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(UnauthenticatedTimeout), UnauthenticatedTimeout, "the unauthenticated deadline must be positive and under 24 days");
        if (StateServeIdleTimeout <= TimeSpan.Zero || StateServeIdleTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(StateServeIdleTimeout), StateServeIdleTimeout, "the state-serve idle timeout must be positive and under 24 days");
        if (MaxIncomingConnections < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxIncomingConnections), MaxIncomingConnections, "at least one incoming connection must be allowed");
    }
}
