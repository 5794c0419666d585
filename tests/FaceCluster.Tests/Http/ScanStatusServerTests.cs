using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FaceCluster.Common.FaceSet;
using FaceCluster.Coordinator.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.Http;

/// <summary>
/// The coordinator's HTTP address while its face set is scanned: alive for probes, the scan's progress for whoever
/// holds the token, 503 for the API that is not there yet.
/// </summary>
[Trait("Tier", "unit")]
public sealed class ScanStatusServerTests
{
    [Fact]
    public async Task While_the_face_set_is_scanned_healthz_answers_and_status_shows_the_progress_to_the_token_holder()
    {
        var progress = new ScanProgress();
        byte[] secret = new byte[32];
        const string token = "scan-status-test-token-0123456789";
        await using var server = await ScanStatusServer.StartAsync("127.0.0.1", 0, null, null, token, secret, "/faces", progress, NullLoggerFactory.Instance);
        using var anonymous = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var operator_ = new HttpClient { BaseAddress = new Uri(server.Url) };
        operator_.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var health = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"scanning\"", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/status")).StatusCode);

        progress.Listed(files: 5000, toExamine: 4000);
        for (int i = 0; i < 1234; i++) progress.FileExamined();
        using (var status = JsonDocument.Parse(await operator_.GetStringAsync("/api/status")))
        {
            var root = status.RootElement;
            Assert.Equal("scanning", root.GetProperty("phase").GetString());
            Assert.Equal("/faces", root.GetProperty("dataRoot").GetString());
            var scan = root.GetProperty("scan");
            Assert.Equal("examining", scan.GetProperty("phase").GetString());
            Assert.Equal(5000, scan.GetProperty("files").GetInt32());
            Assert.Equal(1000, scan.GetProperty("reused").GetInt32());
            Assert.Equal(4000, scan.GetProperty("toExamine").GetInt32());
            Assert.Equal(1234, scan.GetProperty("examined").GetInt32());
        }

        // The API is not there yet, and says why; it still needs the token.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/ledger/stats")).StatusCode);
        var early = await operator_.GetAsync("/api/ledger/stats");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
        Assert.Contains("scanning its face set", await early.Content.ReadAsStringAsync());
    }
}
