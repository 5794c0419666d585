using FaceCluster.Tests.Support;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FaceCluster.Common.DataPlane;

namespace FaceCluster.Tests.DataPlane;

/// <summary>A worker fetches a peer's full state: authenticated, streamed, and checked end to end.</summary>
[Trait("Tier", "unit")]
public class StateTransferTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_large_state_arrives_intact()
    {
        byte[] payload = RandomNumberGenerator.GetBytes(48 * 1024 * 1024 + 13);
        var log = new ListLogger();
        using var server = RingHarness.NewEndpoint(log);
        int served = 0;
        server.SetStateProvider(() => { Interlocked.Increment(ref served); return new StateSnapshot(1234, payload); });
        var clientLog = new ListLogger();
        var fetch = DataPlaneEndpoint.FetchStateAsync(server.AdvertisedEndpoint, RingHarness.Secret, Timeout, logger: clientLog);
        await RingHarness.WithinGuard(fetch);
        StateSnapshot got = await fetch;
        Assert.Equal(1234, got.Step);
        Assert.True(got.Payload.Span.SequenceEqual(payload), "the fetched payload differs from the served one");
        Assert.Equal(1, served);
        Assert.True(clientLog.Contains("Fetched state of step 1234"), clientLog.Text);
    }

    [Fact]
    public async Task No_state_is_a_clear_error()
    {
        using var server = RingHarness.NewEndpoint(new ListLogger());
        var none = await Assert.ThrowsAsync<StateTransferException>(() => DataPlaneEndpoint.FetchStateAsync(server.AdvertisedEndpoint, RingHarness.Secret, Timeout));
        Assert.Contains("no state", none.Message);
        server.SetStateProvider(() => null);
        none = await Assert.ThrowsAsync<StateTransferException>(() => DataPlaneEndpoint.FetchStateAsync(server.AdvertisedEndpoint, RingHarness.Secret, Timeout));
        Assert.Contains("no state", none.Message);
        Assert.Equal(server.AdvertisedEndpoint, none.PeerEndpoint);
    }

    [Fact]
    public async Task A_wrong_secret_gets_no_state()
    {
        var log = new ListLogger();
        using var server = RingHarness.NewEndpoint(log);
        server.SetStateProvider(() => new StateSnapshot(1, new byte[100]));
        var refused = await Assert.ThrowsAsync<StateTransferException>(() =>
            DataPlaneEndpoint.FetchStateAsync(server.AdvertisedEndpoint, "some other secret"u8.ToArray(), Timeout));
        Assert.Equal(HandshakeRejection.AuthenticationFailed, Assert.IsType<DataPlaneHandshakeException>(refused.InnerException).Reason);
        Assert.True(SpinWait.SpinUntil(() => log.Contains("refused by the client"), TimeSpan.FromSeconds(10)), log.Text);
    }

    [Fact]
    public async Task A_corrupted_stream_fails_its_checksum()
    {
        byte[] payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await using var fake = new FakeStateServer(step: 7, payload, corruptAt: 2_000_000);
        var error = await Assert.ThrowsAsync<StateTransferException>(() => DataPlaneEndpoint.FetchStateAsync(fake.Endpoint, RingHarness.Secret, Timeout));
        Assert.Contains("integrity check", error.Message);
        Assert.Contains("step 7", error.Message);
    }

    [Fact]
    public async Task A_truncated_stream_is_detected()
    {
        byte[] payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        await using var fake = new FakeStateServer(step: 7, payload, truncateAt: 300_000);
        var error = await Assert.ThrowsAsync<StateTransferException>(() => DataPlaneEndpoint.FetchStateAsync(fake.Endpoint, RingHarness.Secret, Timeout));
        Assert.Contains("closed the connection after", error.Message);
    }

    /// <summary>A state server that authenticates properly and then sends a damaged stream.</summary>
    private sealed class FakeStateServer : IAsyncDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly Task _serve;

        public FakeStateServer(long step, byte[] payload, int corruptAt = -1, int truncateAt = -1)
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen();
            Endpoint = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";
            _serve = Task.Run(async () =>
            {
                using Socket socket = await _listener.AcceptAsync();
                byte[] hello = new byte[HelloMessage.Size];
                await SocketIo.ReadExactlyAsync(socket, hello, CancellationToken.None);
                byte[] challenge = new byte[ChallengeMessage.Size];
                new ChallengeMessage(HandshakeRejection.None, HandshakeProtocol.Version, 0, -1).Write(challenge, HandshakeProtocol.NewNonce());
                HandshakeProtocol.ServerMac(RingHarness.Secret, hello, challenge).CopyTo(challenge.AsSpan(ChallengeMessage.ProofOffset));
                await SocketIo.WriteAllAsync(socket, challenge, CancellationToken.None);
                await SocketIo.ReadExactlyAsync(socket, new byte[HandshakeProtocol.ProofSize], CancellationToken.None);
                await SocketIo.WriteAllAsync(socket, new byte[HandshakeProtocol.VerdictSize], CancellationToken.None);

                byte[] header = StateTransfer.Header(HandshakeRejection.None, step, payload.Length);
                using var digest = StateTransfer.NewDigest(header);
                digest.AppendData(payload);
                byte[] checksum = digest.GetHashAndReset();
                byte[] sent = [.. payload];
                if (corruptAt >= 0) sent[corruptAt] ^= 0x01;
                await SocketIo.WriteAllAsync(socket, header, CancellationToken.None);
                if (truncateAt >= 0)
                {
                    await SocketIo.WriteAllAsync(socket, sent.AsMemory(0, truncateAt), CancellationToken.None);
                    socket.Shutdown(SocketShutdown.Both);
                    return;
                }
                await SocketIo.WriteAllAsync(socket, sent, CancellationToken.None);
                await SocketIo.WriteAllAsync(socket, checksum, CancellationToken.None);
                socket.Shutdown(SocketShutdown.Send);
                await socket.ReceiveAsync(new byte[1]);
            });
        }

        public string Endpoint { get; }

        public async ValueTask DisposeAsync()
        {
            _listener.Dispose();
            await Task.WhenAny(_serve, Task.Delay(RingHarness.HangGuard));
        }
    }
}
