using System.Security.Cryptography.X509Certificates;
using FaceCluster.Common.FaceSet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FaceCluster.Coordinator.Http;

/// <summary>
/// Answers on the coordinator's HTTP address while the face set is scanned, before the run (and the API) can start:
/// <c>/healthz</c> says the process is alive (so a liveness probe does not kill a long first scan), <c>/api/status</c>
/// gives <c>phase: scanning</c> and the scan's progress (with the same credentials as the API), and every other route
/// answers 503 saying the scan is under way. Disposed when the scan ends; the API then takes the same address.
/// </summary>
public sealed class ScanStatusServer : IAsyncDisposable
{
    public const string Phase = "scanning";

    private readonly WebApplication _app;

    private ScanStatusServer(WebApplication app, string url) => (_app, Url) = (app, url);

    public string Url { get; }

    public static async Task<ScanStatusServer> StartAsync(string host, int port, X509Certificate2? certificate, string? publicHost, string token, byte[] secret,
        string dataRoot, ScanProgress progress, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        var app = KestrelSite.CreateBuilder(host, port, certificate, loggerFactory).Build();
        app.Use(HttpCredentials.Require(token, secret));
        app.MapGet(HttpCredentials.HealthPath, () => Results.Json(new { status = "ok", phase = Phase }, CoordinatorHttpServer.Json));
        app.MapGet("/api/status", () => Results.Json(new ScanStatusResponse(Phase, dataRoot, progress.Snapshot()), CoordinatorHttpServer.Json));
        app.MapGet("/", () => Results.Content(
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5><title>FaceCluster: scanning</title>" +
            "<p>The coordinator is scanning its face set; the dashboard opens here when the scan ends (this page reloads every 5 s). " +
            "Progress: <code>GET /api/status</code> with the token.</p>", "text/html; charset=utf-8"));
        app.MapFallback((HttpContext context) => Results.Json(new ApiError(
            $"{context.Request.Path}: the coordinator is scanning its face set; the API starts when the scan ends (progress: GET /api/status)"),
            CoordinatorHttpServer.Json, statusCode: StatusCodes.Status503ServiceUnavailable));
        string url = await KestrelSite.StartAsync(app, host, port, certificate, publicHost, cancellationToken).ConfigureAwait(false);
        return new ScanStatusServer(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>/api/status while the face set is scanned.</summary>
/// <param name="Phase">Always "scanning".</param>
/// <param name="DataRoot">The face-set folder being scanned.</param>
/// <param name="Scan">How far the scan has come.</param>
public sealed record ScanStatusResponse(string Phase, string DataRoot, ScanProgressSnapshot Scan);
