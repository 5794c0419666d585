using System.Net;
using System.Net.Sockets;

namespace FaceCluster.Common.DataPlane;

/// <summary>The client side of the data-plane handshake: connect, prove the shared secret, check the server's proof.</summary>
internal static class DataPlaneConnector
{
    /// <summary>
    /// Connects to <paramref name="endpoint"/> and completes the handshake. Returns the authenticated socket.
    /// Throws <see cref="SocketException"/> when the connection cannot be made, <see cref="DataPlaneHandshakeException"/>
    /// when either side refuses (or the handshake takes longer than <paramref name="handshakeTimeout"/>), and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async Task<Socket> ConnectAsync(
        string endpoint, byte[] secret, HelloMessage hello, DataPlaneOptions options, TimeSpan? handshakeTimeout,
        ILogger logger, CancellationToken cancellationToken)
    {
        IPEndPoint target = await EndpointAddress.ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            SocketIo.Configure(socket, options);
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (handshakeTimeout is { } limit) deadline.CancelAfter(limit);
            try
            {
                await AuthenticateAsync(socket, endpoint, secret, hello, logger, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                string text = $"the data-plane handshake with {endpoint} did not finish within {handshakeTimeout?.TotalSeconds:0.###} s";
                logger.LogWarning("Data-plane connection to {Peer} abandoned: {Reason}", endpoint, text);
                throw new DataPlaneHandshakeException(text, HandshakeRejection.Timeout, endpoint);
            }
            catch (Exception e) when (e is EndOfStreamException or SocketException)
            {
                string text = $"{endpoint} closed the connection during the data-plane handshake ({e.Message}); its log says why";
                logger.LogWarning("Data-plane connection to {Peer} failed: {Reason}", endpoint, text);
                throw new DataPlaneHandshakeException(text, HandshakeRejection.ProtocolViolation, endpoint, e);
            }
            return socket;
        }
        catch
        {
            SocketIo.CloseQuietly(socket);
            throw;
        }
    }

    /// <summary>
    /// <see cref="ConnectAsync"/>, asked again (after 20 ms, doubling to 500 ms) while <paramref name="worthRetrying"/>
    /// says the refusal or failure is passing (a peer not listening yet, all its connection slots in use); each such
    /// failure goes to <paramref name="onRetry"/>. <paramref name="cancellationToken"/> bounds the whole.
    /// </summary>
    public static async Task<Socket> ConnectRetryingAsync(
        string endpoint, byte[] secret, HelloMessage hello, DataPlaneOptions options, TimeSpan? handshakeTimeout,
        Func<Exception, bool> worthRetrying, Action<Exception> onRetry, ILogger logger, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try
            {
                return await ConnectAsync(endpoint, secret, hello, options, handshakeTimeout, logger, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (worthRetrying(e) && !cancellationToken.IsCancellationRequested)
            {
                onRetry(e);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(500, delay.TotalMilliseconds * 2));
            }
        }
    }

    private static async Task AuthenticateAsync(
        Socket socket, string endpoint, byte[] secret, HelloMessage hello, ILogger logger, CancellationToken cancellationToken)
    {
        byte[] helloBytes = new byte[HelloMessage.Size];
        hello.Write(helloBytes, HandshakeProtocol.NewNonce());
        await SocketIo.WriteAllAsync(socket, helloBytes, cancellationToken).ConfigureAwait(false);

        byte[] challengeBytes = new byte[ChallengeMessage.Size];
        await SocketIo.ReadExactlyAsync(socket, challengeBytes, cancellationToken).ConfigureAwait(false);
        var challenge = ChallengeMessage.Read(challengeBytes);
        if (challenge.Status != HandshakeRejection.None)
            throw Refused(endpoint, challenge.Status, RefusalText(challenge, hello), logger);

        byte[] expected = HandshakeProtocol.ServerMac(secret, helloBytes, challengeBytes);
        if (!HandshakeProtocol.ProofMatches(expected, challengeBytes.AsSpan(ChallengeMessage.ProofOffset, HandshakeProtocol.MacSize)))
        {
            await TrySendAsync(socket, HandshakeProtocol.StatusBytes(HandshakeRejection.AuthenticationFailed, HandshakeProtocol.ProofSize), cancellationToken).ConfigureAwait(false);
            string text = $"refused {endpoint}: it failed to prove that it holds this cluster's shared secret (the secrets differ)";
            logger.LogWarning("Data-plane authentication failed: {Reason}", text);
            throw new DataPlaneHandshakeException(text, HandshakeRejection.AuthenticationFailed, endpoint);
        }
        if (hello.Purpose == DataPlanePurpose.Ring && (challenge.ServerGeneration != hello.Generation || challenge.ServerRank != hello.TargetRank))
        {
            await TrySendAsync(socket, HandshakeProtocol.StatusBytes(HandshakeRejection.RingMismatch, HandshakeProtocol.ProofSize), cancellationToken).ConfigureAwait(false);
            string text = $"refused {endpoint}: it answered as rank {challenge.ServerRank} of ring generation {challenge.ServerGeneration}, expected rank {hello.TargetRank} of generation {hello.Generation}";
            logger.LogWarning("Data-plane connection refused: {Reason}", text);
            throw new DataPlaneHandshakeException(text, HandshakeRejection.RingMismatch, endpoint);
        }

        byte[] proof = new byte[HandshakeProtocol.ProofSize];
        HandshakeProtocol.ClientMac(secret, helloBytes, challengeBytes).CopyTo(proof.AsSpan(4));
        await SocketIo.WriteAllAsync(socket, proof, cancellationToken).ConfigureAwait(false);

        byte[] verdict = new byte[HandshakeProtocol.VerdictSize];
        await SocketIo.ReadExactlyAsync(socket, verdict, cancellationToken).ConfigureAwait(false);
        var status = (HandshakeRejection)verdict[0];
        if (status != HandshakeRejection.None)
            throw Refused(endpoint, status, RefusalText(challenge with { Status = status }, hello), logger);
    }

    private static DataPlaneHandshakeException Refused(string endpoint, HandshakeRejection reason, string why, ILogger logger)
    {
        string text = $"{endpoint} refused the data-plane connection: {why}";
        logger.LogWarning("Data-plane connection refused by the peer: {Reason}", text);
        return new DataPlaneHandshakeException(text, reason, endpoint);
    }

    private static string RefusalText(ChallengeMessage challenge, HelloMessage hello) => challenge.Status switch
    {
        HandshakeRejection.StaleGeneration =>
            $"stale ring generation {hello.Generation} (the peer has joined generation {challenge.ServerGeneration})",
        HandshakeRejection.UnknownGeneration =>
            $"it has not joined ring generation {hello.Generation} (its latest is {challenge.ServerGeneration})",
        HandshakeRejection.UnsupportedVersion =>
            $"protocol version {hello.Version} is not supported (the peer speaks version {challenge.ServerVersion})",
        HandshakeRejection.WrongRank =>
            $"it is rank {challenge.ServerRank} of ring generation {challenge.ServerGeneration}, not rank {hello.TargetRank}",
        HandshakeRejection.NotPredecessor =>
            $"rank {hello.SenderRank} is not the predecessor of its rank {challenge.ServerRank} in ring generation {hello.Generation}",
        _ => HandshakeProtocol.Describe(challenge.Status),
    };

    private static async Task TrySendAsync(Socket socket, byte[] bytes, CancellationToken cancellationToken)
    {
        try { await SocketIo.WriteAllAsync(socket, bytes, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException) { }
    }
}
