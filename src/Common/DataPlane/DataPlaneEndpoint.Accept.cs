using System.Net.Sockets;

namespace FaceCluster.Common.DataPlane;

/// <summary>The endpoint's server side: accepting connections, authenticating them, and handing each to the ring slot or state request it is for.</summary>
public sealed partial class DataPlaneEndpoint
{
    private async Task AcceptLoopAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_closing.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (_closing.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }
            catch (SocketException e)
            {
                _logger.LogWarning("Data plane on {Bound}: accept failed: {Reason}", EndpointAddress.Format(BoundEndpoint), e.Message);
                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }
            string remote = socket.RemoteEndPoint?.ToString() ?? "an unknown address";
            if (!_connectionSlots.Wait(0))
            {
                // The client is told, so a genuine peer retries (strangers holding slots are cut off at their short deadline).
                _ = Task.Run(async () =>
                {
                    await RefuseAsync(socket, remote, HandshakeRejection.TooManyConnections, $"all {_options.MaxIncomingConnections} connection slots are in use", LatestGeneration, -1)
                        .ConfigureAwait(false);
                    SocketIo.CloseQuietly(socket);
                });
                continue;
            }
            _incoming[socket] = 0;
            _ = Task.Run(() => HandleConnectionAsync(socket, remote));
        }
    }

    private async Task HandleConnectionAsync(Socket socket, string remote)
    {
        bool handedOver = false;
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        handshake.CancelAfter(_options.HandshakeTimeout);
        try
        {
            SocketIo.Configure(socket, _options);
            byte[] helloBytes = new byte[HelloMessage.Size];
            await ReadUnauthenticatedAsync(socket, helloBytes, remote, "hello", handshake.Token).ConfigureAwait(false);
            if (!HelloMessage.TryRead(helloBytes, out var hello))
            {
                await RefuseAsync(socket, remote, HandshakeRejection.BadMagic, "its first bytes are not the FaceCluster data-plane magic \"FCDP\"", -1, -1).ConfigureAwait(false);
                return;
            }
            if (hello.Version != HandshakeProtocol.Version)
            {
                await RefuseAsync(socket, remote, HandshakeRejection.UnsupportedVersion,
                    $"it speaks protocol version {hello.Version}, this endpoint speaks version {HandshakeProtocol.Version}", LatestGeneration, -1).ConfigureAwait(false);
                return;
            }
            switch (hello.Purpose)
            {
                case DataPlanePurpose.Ring:
                    handedOver = await AdmitRingMemberAsync(socket, remote, helloBytes, hello, handshake.Token).ConfigureAwait(false);
                    break;
                case DataPlanePurpose.State:
                    if (!await AuthenticateAsync(socket, remote, helloBytes, hello, LatestGeneration, -1, handshake.Token).ConfigureAwait(false))
                        return;
                    await SocketIo.WriteAllAsync(socket, HandshakeProtocol.StatusBytes(HandshakeRejection.None, HandshakeProtocol.VerdictSize), handshake.Token).ConfigureAwait(false);
                    await StateTransfer.ServeAsync(socket, Volatile.Read(ref _stateProvider), _options.StateServeIdleTimeout, remote, _logger, _closing.Token)
                        .ConfigureAwait(false);
                    break;
                default:
                    await RefuseAsync(socket, remote, HandshakeRejection.BadPurpose, $"it asked for purpose {(byte)hello.Purpose}", LatestGeneration, -1).ConfigureAwait(false);
                    break;
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            _logger.LogDebug("Data-plane connection from {Remote} closed: the endpoint is shutting down", remote);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Data-plane connection from {Remote} closed: {Reason} ({Seconds:0.###} s)",
                remote, HandshakeProtocol.Describe(HandshakeRejection.Timeout), _options.HandshakeTimeout.TotalSeconds);
        }
        catch (TimeoutException e)
        {
            _logger.LogWarning("Closed data-plane connection from {Remote}: {Reason}", remote, e.Message);
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException or IOException)
        {
            if (!_closing.IsCancellationRequested)
                _logger.LogWarning("Data-plane connection from {Remote} failed: {Reason}", remote, e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Data-plane connection from {Remote} failed unexpectedly", remote);
        }
        finally
        {
            _incoming.TryRemove(socket, out _);
            if (!handedOver) SocketIo.CloseQuietly(socket);
            _connectionSlots.Release();
        }
    }

    /// <summary>Runs the server side of a ring handshake; true when the socket became a ring session's predecessor link.</summary>
    private async Task<bool> AdmitRingMemberAsync(Socket socket, string remote, byte[] helloBytes, HelloMessage hello, CancellationToken cancellationToken)
    {
        string claim = $"rank {hello.SenderRank} of ring generation {hello.Generation}";
        RingSlot? slot;
        // Not authenticated yet: the wait for the local join is short too; a refused genuine predecessor asks again.
        using (var joinWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            joinWait.CancelAfter(_options.UnauthenticatedDeadline);
            try
            {
                slot = await FindSlotAsync(hello.Generation, joinWait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_closing.IsCancellationRequested)
            {
                await RefuseAsync(socket, $"{remote} ({claim})", HandshakeRejection.UnknownGeneration,
                    $"this endpoint did not join generation {hello.Generation} within {_options.UnauthenticatedDeadline.TotalSeconds:0.###} s (latest: {LatestGeneration})",
                    LatestGeneration, -1).ConfigureAwait(false);
                return false;
            }
        }
        string who = $"{remote} ({claim})";
        if (slot is null)
        {
            long latest = LatestGeneration;
            await RefuseAsync(socket, who, HandshakeRejection.StaleGeneration, $"stale generation {hello.Generation}, this endpoint has joined generation {latest}", latest, -1)
                .ConfigureAwait(false);
            return false;
        }
        HandshakeRejection early = HandshakeRejection.None;
        string detail = "";
        if (hello.RingSize != slot.Size || hello.RingFingerprint != slot.Fingerprint)
            (early, detail) = (HandshakeRejection.RingMismatch, $"it describes a ring of {hello.RingSize} members that differs from this endpoint's ring of {slot.Size}");
        else if (hello.TargetRank != slot.Rank)
            (early, detail) = (HandshakeRejection.WrongRank, $"it expected rank {hello.TargetRank}, this endpoint is rank {slot.Rank}");
        else if (hello.SenderRank != slot.PredecessorRank)
            (early, detail) = (HandshakeRejection.NotPredecessor, $"only rank {slot.PredecessorRank} may connect to rank {slot.Rank}");
        else
        {
            lock (_gate)
            {
                if (slot.Taken) (early, detail) = (HandshakeRejection.DuplicateConnection, $"rank {slot.PredecessorRank} is already connected");
            }
        }
        if (early != HandshakeRejection.None)
        {
            await RefuseAsync(socket, who, early, detail, slot.Generation, slot.Rank).ConfigureAwait(false);
            return false;
        }
        if (!await AuthenticateAsync(socket, who, helloBytes, hello, slot.Generation, slot.Rank, cancellationToken).ConfigureAwait(false))
            return false;

        HandshakeRejection verdict;
        lock (_gate)
        {
            if (!_slots.TryGetValue(slot.Generation, out var current) || current != slot)
                verdict = slot.Generation < _latestGeneration ? HandshakeRejection.StaleGeneration : HandshakeRejection.UnknownGeneration;
            else if (slot.Taken)
                verdict = HandshakeRejection.DuplicateConnection;
            else if (slot.Closed)
                verdict = HandshakeRejection.JoinEnded;
            else
            {
                slot.Taken = true;
                verdict = HandshakeRejection.None;
            }
        }
        await SocketIo.WriteAllAsync(socket, HandshakeProtocol.StatusBytes(verdict, HandshakeProtocol.VerdictSize), cancellationToken).ConfigureAwait(false);
        if (verdict != HandshakeRejection.None)
        {
            _logger.LogWarning("Refused data-plane connection from {Remote} after authentication: {Reason}", who, HandshakeProtocol.Describe(verdict));
            return false;
        }
        lock (_gate)
        {
            if (_slots.TryGetValue(slot.Generation, out var current) && current == slot && !slot.Closed && slot.Accepted.TrySetResult(socket))
            {
                _logger.LogDebug("Accepted predecessor {Remote} for ring generation {Generation} rank {Rank}", who, slot.Generation, slot.Rank);
                return true;
            }
        }
        _logger.LogWarning("Dropped data-plane connection from {Remote}: the local join of generation {Generation} ended before it was accepted", who, slot.Generation);
        return false;
    }

    /// <summary>The slot of <paramref name="generation"/> once the local JoinRing registers it; null when the generation is stale.</summary>
    private async Task<RingSlot?> FindSlotAsync(long generation, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (generation < _latestGeneration) return null;
                if (_slots.TryGetValue(generation, out var slot)) return slot;
                changed = _slotsChanged.Task;
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Server side of the proofs; false (after telling the client and logging why) when the client does not hold the secret.</summary>
    private async Task<bool> AuthenticateAsync(Socket socket, string remote, byte[] helloBytes, HelloMessage hello, long serverGeneration, int serverRank,
        CancellationToken cancellationToken)
    {
        byte[] challenge = new byte[ChallengeMessage.Size];
        new ChallengeMessage(HandshakeRejection.None, HandshakeProtocol.Version, serverGeneration, serverRank)
            .Write(challenge, HandshakeProtocol.NewNonce());
        HandshakeProtocol.ServerMac(_secret, helloBytes, challenge).CopyTo(challenge.AsSpan(ChallengeMessage.ProofOffset));
        await SocketIo.WriteAllAsync(socket, challenge, cancellationToken).ConfigureAwait(false);

        byte[] proof = new byte[HandshakeProtocol.ProofSize];
        await ReadUnauthenticatedAsync(socket, proof, remote, "proof", cancellationToken).ConfigureAwait(false);
        var status = (HandshakeRejection)proof[0];
        if (status != HandshakeRejection.None)
        {
            _logger.LogWarning("Data-plane connection from {Remote} refused by the client: {Reason}", remote,
                status == HandshakeRejection.AuthenticationFailed
                    ? "this endpoint's proof did not match the client's shared secret (the secrets differ)"
                    : HandshakeProtocol.Describe(status));
            return false;
        }
        byte[] expected = HandshakeProtocol.ClientMac(_secret, helloBytes, challenge);
        if (!HandshakeProtocol.ProofMatches(expected, proof.AsSpan(4, HandshakeProtocol.MacSize)))
        {
            _logger.LogWarning("Refused data-plane connection from {Remote}: {Reason}", remote,
                "authentication failed, it does not hold this cluster's shared secret");
            using var limit = new CancellationTokenSource(RefusalSendLimit);
            await TrySendAsync(socket, HandshakeProtocol.StatusBytes(HandshakeRejection.AuthenticationFailed, HandshakeProtocol.VerdictSize), limit.Token)
                .ConfigureAwait(false);
            return false;
        }
        return true;
    }

    /// <summary>Reads a handshake message of a client that has not proved the secret yet, within the short unauthenticated deadline.</summary>
    private async Task ReadUnauthenticatedAsync(Socket socket, byte[] buffer, string remote, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.UnauthenticatedDeadline);
        try
        {
            await SocketIo.ReadExactlyAsync(socket, buffer, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no {what} within {_options.UnauthenticatedDeadline.TotalSeconds:0.###} s from a connection that has not proved the secret");
        }
    }

    /// <summary>Logs why, tells the client in a challenge's status byte, and lets the caller close the connection.</summary>
    private async Task RefuseAsync(Socket socket, string remote, HandshakeRejection reason, string detail, long serverGeneration, int serverRank)
    {
        _logger.LogWarning("Refused data-plane connection from {Remote}: {Reason}: {Detail}", remote, HandshakeProtocol.Describe(reason), detail);
        byte[] challenge = new byte[ChallengeMessage.Size];
        new ChallengeMessage(reason, HandshakeProtocol.Version, serverGeneration, serverRank).Write(challenge, default);
        using var limit = new CancellationTokenSource(RefusalSendLimit);
        await TrySendAsync(socket, challenge, limit.Token).ConfigureAwait(false);
    }

    private static async Task TrySendAsync(Socket socket, byte[] bytes, CancellationToken cancellationToken)
    {
        try { await SocketIo.WriteAllAsync(socket, bytes, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException) { }
    }
}
