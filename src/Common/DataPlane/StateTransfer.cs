using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// The state-transfer stream that follows an authenticated handshake of purpose "state":
/// header (24 bytes: u8 status | 7 zero bytes | i64 step | i64 payload length), then the payload, then
/// SHA-256 over (step | length | payload) (32 bytes). The server hashes each slice as it sends it and the client
/// each piece as it arrives, straight into the one array it returns.
/// </summary>
internal static class StateTransfer
{
    public const int HeaderSize = 24;
    public const int DigestSize = 32;
    private const int SliceBytes = 1 << 20;

    /// <summary>Writes the header for <paramref name="status"/>, <paramref name="step"/> and <paramref name="length"/>.</summary>
    public static byte[] Header(HandshakeRejection status, long step, long length)
    {
        var header = new byte[HeaderSize];
        header[0] = (byte)status;
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), step);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), length);
        return header;
    }

    /// <summary>A hash already fed with the header fields that the digest covers.</summary>
    public static IncrementalHash NewDigest(ReadOnlySpan<byte> header)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header[8..HeaderSize]);
        return hash;
    }

    /// <summary>Serves one snapshot (or the reason there is none) on an authenticated connection.</summary>
    public static async Task ServeAsync(Socket socket, Func<StateSnapshot?>? provider, TimeSpan idleTimeout, string remote,
        ILogger logger, CancellationToken closing)
    {
        StateSnapshot? snapshot = null;
        if (provider is not null)
        {
            try { snapshot = provider(); }
            catch (Exception e)
            {
                logger.LogError(e, "The state provider failed while serving a state request from {Remote}", remote);
            }
        }
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(closing);
        if (snapshot is null)
        {
            idle.CancelAfter(idleTimeout);
            await SocketIo.WriteAllAsync(socket, Header(HandshakeRejection.NoStateAvailable, 0, 0), idle.Token).ConfigureAwait(false);
            logger.LogWarning("State request from {Remote} refused: {Reason}", remote,
                provider is null ? "no state provider is set" : "the state provider has no state");
            return;
        }
        var clock = Stopwatch.StartNew();
        ReadOnlyMemory<byte> payload = snapshot.Payload;
        byte[] header = Header(HandshakeRejection.None, snapshot.Step, payload.Length);
        using var digest = NewDigest(header);
        idle.CancelAfter(idleTimeout);
        await SocketIo.WriteAllAsync(socket, header, idle.Token).ConfigureAwait(false);
        for (int offset = 0; offset < payload.Length; offset += SliceBytes)
        {
            ReadOnlyMemory<byte> slice = payload.Slice(offset, Math.Min(SliceBytes, payload.Length - offset));
            digest.AppendData(slice.Span);
            idle.CancelAfter(idleTimeout);
            await SocketIo.WriteAllAsync(socket, slice, idle.Token).ConfigureAwait(false);
        }
        idle.CancelAfter(idleTimeout);
        await SocketIo.WriteAllAsync(socket, digest.GetHashAndReset(), idle.Token).ConfigureAwait(false);
        logger.LogInformation("Served state of step {Step} ({Bytes} bytes) to {Remote} in {Seconds:0.###} s",
            snapshot.Step, payload.Length, remote, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Fetches a snapshot; <paramref name="timeout"/> bounds the handshake and every wait for more data.</summary>
    public static async Task<StateSnapshot> FetchAsync(string peerEndpoint, byte[] secret, TimeSpan timeout, DataPlaneOptions options,
        ILogger logger, CancellationToken cancellationToken)
    {
        Socket socket;
        using (var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectDeadline.CancelAfter(timeout);
            try
            {
                // A peer whose connection slots are all in use is asked again until the deadline.
                socket = await DataPlaneConnector.ConnectRetryingAsync(peerEndpoint, secret, HelloMessage.ForState(), options, timeout,
                    e => e is DataPlaneHandshakeException { Reason: HandshakeRejection.TooManyConnections },
                    e => logger.LogInformation("State transfer from {Peer}: {Reason}; asking again", peerEndpoint, e.Message),
                    logger, connectDeadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new StateTransferException($"could not connect to {peerEndpoint} for a state transfer within {timeout.TotalSeconds:0.###} s", peerEndpoint);
            }
            catch (DataPlaneHandshakeException e)
            {
                throw new StateTransferException($"state transfer from {peerEndpoint} refused: {e.Message}", peerEndpoint, e);
            }
            catch (SocketException e)
            {
                throw new StateTransferException($"could not connect to {peerEndpoint} for a state transfer: {e.Message}", peerEndpoint, e);
            }
        }
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            return await ReceiveAsync(socket, peerEndpoint, timeout, logger, idle, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            SocketIo.CloseQuietly(socket);
        }
    }

    private static async Task<StateSnapshot> ReceiveAsync(Socket socket, string peer, TimeSpan timeout, ILogger logger,
        CancellationTokenSource idle, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            byte[] header = new byte[HeaderSize];
            idle.CancelAfter(timeout);
            await SocketIo.ReadExactlyAsync(socket, header, idle.Token).ConfigureAwait(false);
            var status = (HandshakeRejection)header[0];
            if (status != HandshakeRejection.None)
                throw new StateTransferException($"{peer} has no state to give ({HandshakeProtocol.Describe(status)})", peer);
            long step = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
            long length = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16));
            if (length < 0 || length > Array.MaxLength)
                throw new StateTransferException($"{peer} announced a state of {length} bytes, which one array cannot hold (limit {Array.MaxLength})", peer);
            byte[] payload = GC.AllocateUninitializedArray<byte>((int)length);
            using var digest = NewDigest(header);
            int got = 0;
            while (got < payload.Length)
            {
                idle.CancelAfter(timeout);
                int n = await socket.ReceiveAsync(payload.AsMemory(got, Math.Min(SliceBytes, payload.Length - got)), SocketFlags.None, idle.Token)
                    .ConfigureAwait(false);
                if (n == 0)
                    throw new StateTransferException($"{peer} closed the connection after {got} of {length} state bytes", peer);
                digest.AppendData(payload, got, n);
                got += n;
            }
            byte[] expected = new byte[DigestSize];
            idle.CancelAfter(timeout);
            await SocketIo.ReadExactlyAsync(socket, expected, idle.Token).ConfigureAwait(false);
            byte[] actual = digest.GetHashAndReset();
            if (!CryptographicOperations.FixedTimeEquals(expected, actual))
                throw new StateTransferException(
                    $"the state of step {step} from {peer} ({length} bytes) failed its integrity check: SHA-256 {Convert.ToHexStringLower(actual)} received, {Convert.ToHexStringLower(expected)} announced",
                    peer);
            logger.LogInformation("Fetched state of step {Step} ({Bytes} bytes) from {Peer} in {Seconds:0.###} s",
                step, length, peer, clock.Elapsed.TotalSeconds);
            return new StateSnapshot(step, payload);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StateTransferException($"the state transfer from {peer} made no progress for {timeout.TotalSeconds:0.###} s", peer);
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException)
        {
            throw new StateTransferException($"the state transfer from {peer} failed: {e.Message}", peer, e);
        }
    }
}
