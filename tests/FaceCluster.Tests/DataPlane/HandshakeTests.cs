using FaceCluster.Tests.Support;
using System.Net;
using System.Net.Sockets;
using FaceCluster.Common.DataPlane;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.DataPlane;

/// <summary>Every data-plane connection proves the shared secret first; wrong secrets, stale generations and impostors are refused and logged.</summary>
[Trait("Tier", "unit")]
public class HandshakeTests
{
    private static readonly byte[] OtherSecret = "not the cluster's secret at all"u8.ToArray();

    [Fact]
    public async Task A_wrong_secret_is_refused_on_both_sides()
    {
        var logA = new ListLogger();
        var logB = new ListLogger();
        using var a = RingHarness.NewEndpoint(logA);
        using var b = RingHarness.NewEndpoint(logB, secret: OtherSecret);
        var spec = new RingSpec(1, [a.AdvertisedEndpoint, b.AdvertisedEndpoint]);
        var joins = new[] { a.JoinRingAsync(spec, 0, TimeSpan.FromSeconds(5)), b.JoinRingAsync(spec, 1, TimeSpan.FromSeconds(5)) };
        await RingHarness.WithinGuard(Task.WhenAll(joins).ContinueWith(_ => { }));

        foreach (var (join, log) in new[] { (joins[0], logA), (joins[1], logB) })
        {
            var error = Assert.IsType<AllReduceFailedException>(join.Exception?.InnerException);
            var handshake = Assert.IsType<DataPlaneHandshakeException>(error.InnerException);
            Assert.Equal(HandshakeRejection.AuthenticationFailed, handshake.Reason);
            Assert.Contains("shared secret", error.Message);
            Assert.True(log.Contains("shared secret"), "the refusal is logged:\n" + log.Text);
        }
        // Each side also logged, as the server, that its peer refused its proof.
        // (The server side logs it asynchronously, possibly after the client side has given up.)
        Assert.True(SpinWait.SpinUntil(() => logA.Contains("refused by the client") && logB.Contains("refused by the client"), TimeSpan.FromSeconds(10)),
            logA.Text + "\n" + logB.Text);
        foreach (string text in new[] { logA.Text, logB.Text })
        {
            Assert.DoesNotContain("facecluster test secret", text);
            Assert.DoesNotContain(Convert.ToHexString(RingHarness.Secret), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(RingHarness.Secret), text);
        }
    }

    [Fact]
    public async Task Sixty_four_idle_strangers_do_not_stop_a_ring_from_forming_or_a_state_fetch()
    {
        // The strangers connect first and send nothing: they fill every connection slot of both endpoints.
        using var harness = RingHarness.Create(2);
        harness.Endpoints[1].SetStateProvider(() => new StateSnapshot(7, new byte[] { 1, 2, 3 }));
        var strangers = new List<Socket>();
        try
        {
            foreach (var endpoint in harness.Endpoints)
                for (int i = 0; i < DataPlaneOptions.Default.MaxIncomingConnections; i++)
                    strangers.Add(await ConnectRaw(endpoint));
            await Task.Delay(200);

            // The replan: both join a new ring and sum a buffer. Refused with TooManyConnections at first, the
            // members ask again; the strangers are closed at the unauthenticated deadline (2 s), long before 10 s.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var joins = new[] { harness.Endpoints[0].JoinRingAsync(harness.Spec, 0, TimeSpan.FromSeconds(10)), harness.Endpoints[1].JoinRingAsync(harness.Spec, 1, TimeSpan.FromSeconds(10)) };
            await RingHarness.WithinGuard(Task.WhenAll(joins));
            var sessions = await Task.WhenAll(joins);
            try
            {
                var sums = RingHarness.OnThreads([0, 1], r =>
                {
                    float[] buffer = [r + 1f, 10f];
                    sessions[r].AllReduceSum(buffer, 2, 0);
                    return buffer;
                });
                await RingHarness.WithinGuard(Task.WhenAll(sums));
                Assert.All(sums, t => Assert.Equal([3f, 20f], t.Result));
            }
            finally
            {
                foreach (var s in sessions) s.Dispose();
            }
            var snapshot = await StateTransfer.FetchAsync(harness.Endpoints[1].AdvertisedEndpoint, RingHarness.Secret, TimeSpan.FromSeconds(10),
                DataPlaneOptions.Default, NullLogger.Instance, CancellationToken.None);
            Assert.Equal(7, snapshot.Step);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"the ring and the fetch took {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(harness.Logs[1].Contains("has not proved the secret"), harness.Logs[1].Text);

            // Every stranger was closed by the endpoint (a read ends), none was let in.
            foreach (var s in strangers)
            {
                s.ReceiveTimeout = 5000;
                byte[] buffer = new byte[ChallengeMessage.Size];
                int n;
                try { n = s.Receive(buffer); }
                catch (SocketException) { n = 0; }
                Assert.True(n == 0 || ChallengeMessage.Read(buffer).Status == HandshakeRejection.TooManyConnections);
            }
        }
        finally
        {
            foreach (var s in strangers) s.Dispose();
        }
    }

    [Fact]
    public async Task A_client_with_a_wrong_proof_is_refused_by_the_server()
    {
        var log = new ListLogger();
        using var server = RingHarness.NewEndpoint(log);
        server.SetStateProvider(() => new StateSnapshot(1, new byte[] { 1, 2, 3 }));
        using var client = await ConnectRaw(server);
        byte[] hello = new byte[HelloMessage.Size];
        HelloMessage.ForState().Write(hello, HandshakeProtocol.NewNonce());
        client.Send(hello);
        byte[] challenge = ReadExactly(client, ChallengeMessage.Size);
        Assert.Equal(HandshakeRejection.None, ChallengeMessage.Read(challenge).Status);
        // A client that skips checking the server and guesses a proof: the server must refuse it.
        byte[] proof = new byte[HandshakeProtocol.ProofSize];
        HandshakeProtocol.ClientMac(OtherSecret, hello, challenge).CopyTo(proof.AsSpan(4));
        client.Send(proof);
        byte[] verdict = ReadExactly(client, HandshakeProtocol.VerdictSize);
        Assert.Equal((byte)HandshakeRejection.AuthenticationFailed, verdict[0]);
        Assert.Equal(0, client.Receive(new byte[16]));
        Assert.True(log.Contains("does not hold this cluster's shared secret"), log.Text);
    }

    [Fact]
    public async Task A_stale_generation_is_refused()
    {
        var options = new DataPlaneOptions { HandshakeTimeout = TimeSpan.FromSeconds(1) };
        var logA = new ListLogger();
        var logB = new ListLogger();
        using var a = RingHarness.NewEndpoint(logA, options);
        using var b = RingHarness.NewEndpoint(logB, options);
        string[] members = [a.AdvertisedEndpoint, b.AdvertisedEndpoint];
        // B has moved on to generation 5; A still acts on generation 4.
        var joinB = b.JoinRingAsync(new RingSpec(5, members), 1, TimeSpan.FromSeconds(3));
        Assert.Equal(5, b.LatestGeneration);
        var joinA = a.JoinRingAsync(new RingSpec(4, members), 0, TimeSpan.FromSeconds(3));
        await RingHarness.WithinGuard(Task.WhenAll(joinA, joinB).ContinueWith(_ => { }));

        var errorA = Assert.IsType<AllReduceFailedException>(joinA.Exception?.InnerException);
        Assert.Equal(HandshakeRejection.StaleGeneration, Assert.IsType<DataPlaneHandshakeException>(errorA.InnerException).Reason);
        Assert.Contains("stale ring generation 4", errorA.Message);
        Assert.True(logB.Contains("stale generation 4"), logB.Text);
        Assert.IsType<AllReduceFailedException>(joinB.Exception?.InnerException);

        // An endpoint also refuses to go back to a generation older than one it joined.
        var back = Assert.Throws<AllReduceFailedException>(() => b.JoinRing(new RingSpec(3, members), 1, TimeSpan.FromSeconds(1)));
        Assert.Contains("stale", back.Message);
    }

    [Fact]
    public async Task Only_the_predecessor_may_connect()
    {
        using var ring = RingHarness.Create(3);
        using var joining = new CancellationTokenSource();
        var join0 = ring.Endpoints[0].JoinRingAsync(ring.Spec, 0, TimeSpan.FromSeconds(20), joining.Token);
        try
        {
            // Rank 0's predecessor is rank 2; rank 1 (with the right secret) is turned away.
            var impostor = new HelloMessage(HandshakeProtocol.Version, DataPlanePurpose.Ring, ring.Spec.Generation, 1, 0, 3, ring.Spec.Fingerprint());
            var refusal = await Assert.ThrowsAsync<DataPlaneHandshakeException>(() => DataPlaneConnector.ConnectAsync(
                ring.Spec.MemberEndpoints[0], RingHarness.Secret, impostor, DataPlaneOptions.Default, TimeSpan.FromSeconds(5), NullLogger.Instance, CancellationToken.None));
            Assert.Equal(HandshakeRejection.NotPredecessor, refusal.Reason);

            // A member list that differs from rank 0's is refused too.
            var otherRing = new RingSpec(ring.Spec.Generation, [.. ring.Spec.MemberEndpoints.Take(2), "127.0.0.1:1"]);
            var mismatch = new HelloMessage(HandshakeProtocol.Version, DataPlanePurpose.Ring, ring.Spec.Generation, 2, 0, 3, otherRing.Fingerprint());
            var mismatchRefusal = await Assert.ThrowsAsync<DataPlaneHandshakeException>(() => DataPlaneConnector.ConnectAsync(
                ring.Spec.MemberEndpoints[0], RingHarness.Secret, mismatch, DataPlaneOptions.Default, TimeSpan.FromSeconds(5), NullLogger.Instance, CancellationToken.None));
            Assert.Equal(HandshakeRejection.RingMismatch, mismatchRefusal.Reason);
            Assert.True(ring.Logs[0].Contains("only rank 2 may connect to rank 0"), ring.Logs[0].Text);
        }
        finally
        {
            joining.Cancel();
            await RingHarness.WithinGuard(join0.ContinueWith(_ => { }));
        }
        Assert.True(join0.IsCanceled);
    }

    [Fact]
    public async Task A_connection_that_does_not_speak_the_protocol_is_refused()
    {
        var log = new ListLogger();
        using var server = RingHarness.NewEndpoint(log);
        using var client = await ConnectRaw(server);
        byte[] request = new byte[HelloMessage.Size];
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.CopyTo(request);
        client.Send(request);
        byte[] answer = ReadExactly(client, ChallengeMessage.Size);
        Assert.Equal(HandshakeRejection.BadMagic, ChallengeMessage.Read(answer).Status);
        Assert.Equal(0, client.Receive(new byte[16]));
        Assert.True(log.Contains("bad magic"), log.Text);
    }

    [Fact]
    public async Task A_stalled_handshake_times_out()
    {
        var log = new ListLogger();
        using var server = RingHarness.NewEndpoint(log, new DataPlaneOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = await ConnectRaw(server);
        client.Send("FCDP"u8); // and then nothing
        client.ReceiveTimeout = (int)RingHarness.HangGuard.TotalMilliseconds;
        Assert.Equal(0, client.Receive(new byte[64]));
        Assert.True(SpinWait.SpinUntil(() => log.Contains("timed out"), TimeSpan.FromSeconds(10)), log.Text);
    }

    private static async Task<Socket> ConnectRaw(DataPlaneEndpoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.BoundEndpoint.Port));
        socket.ReceiveTimeout = 20_000;
        return socket;
    }

    private static byte[] ReadExactly(Socket socket, int size)
    {
        var bytes = new byte[size];
        SocketIo.ReadExactly(socket, bytes);
        return bytes;
    }
}
