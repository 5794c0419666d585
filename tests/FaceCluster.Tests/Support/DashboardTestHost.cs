using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace FaceCluster.Tests.Support;

/// <summary>
/// A minimal ASP.NET host for the dashboard tests: <see cref="DashboardAssets.MapDashboard"/> plus the coordinator's
/// ledger routes, each answered by asking a real LedgerActor, a fixed /api/status and face images from memory.
/// Listens on 127.0.0.1 on a free port.
/// </summary>
internal sealed class DashboardTestHost : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString,
    };

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;

    private DashboardTestHost(WebApplication app, string baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>http://127.0.0.1:PORT (no trailing slash).</summary>
    public string BaseAddress { get; }

    /// <summary>POSTs that carried the right token, as "route id".</summary>
    public List<string> AuthorizedPosts { get; } = [];

    public static async Task<DashboardTestHost> StartAsync(IActorRef ledger, string token, object status, IReadOnlyDictionary<int, byte[]> faces,
        string? previewsDir = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        DashboardTestHost? host = null;

        app.MapDashboard();
        app.MapPreviews(previewsDir);
        app.MapGet("/api/status", () => Results.Json(status, Json));
        app.MapGet("/api/ledger/stats", () => Ask(ledger, GetLedgerStats.Instance));
        app.MapGet("/api/ledger/worst", (int? n, bool? includeQuarantined) => Ask(ledger, new GetWorstSamples(n ?? 50, includeQuarantined ?? false)));
        app.MapGet("/api/ledger/sample/{id:int}", (int id) => Ask(ledger, new GetSampleHistory(id)));
        app.MapGet("/api/ledger/identities", () => Ask(ledger, GetLedgerIdentities.Instance));
        app.MapGet("/api/ledger/quarantine", () => Ask(ledger, new GetQuarantine(IncludeRestored: false)));
        app.MapGet("/api/ledger/review", () => Ask(ledger, GetReviewQueue.Instance));
        app.MapGet("/api/ledger/curves", () => Ask(ledger, new GetLossCurves(256)));
        app.MapGet("/api/faces/{id:int}", (int id) => faces.TryGetValue(id, out byte[]? png) ? Results.Bytes(png, "image/png") : Results.NotFound());
        app.MapPost("/api/ledger/restore", async (HttpContext context, RestoreBody body) =>
        {
            if (!Authorized(context, token)) return Results.Unauthorized();
            lock (host!.AuthorizedPosts) host.AuthorizedPosts.Add($"restore {string.Join(',', body.Ids ?? [])}");
            return await Ask(ledger, new RestoreSamples(body.Ids ?? [], "restored from the dashboard"));
        });
        app.MapPost("/api/ledger/review", async (HttpContext context, ReviewBody body) =>
        {
            if (!Authorized(context, token)) return Results.Unauthorized();
            bool? quarantine = body.Decision switch { "quarantine" => true, "keep" => false, _ => null };
            if (quarantine is null) return Results.Json(new { message = $"decision '{body.Decision}' is neither quarantine nor keep" }, Json, statusCode: 400);
            lock (host!.AuthorizedPosts) host.AuthorizedPosts.Add($"review {body.Id} {body.Decision}");
            return await Ask(ledger, new ReviewDecision(body.Id, quarantine.Value));
        });

        await app.StartAsync();
        string address = app.Urls.First().TrimEnd('/');
        host = new DashboardTestHost(app, address);
        return host;
    }

    private static bool Authorized(HttpContext context, string token) =>
        context.Request.Headers.Authorization.ToString() == $"Bearer {token}";

    private static async Task<IResult> Ask(IActorRef ledger, ILedgerRequest request)
    {
        object reply = await ledger.Ask<object>(request, AskTimeout);
        return reply is LedgerError error
            ? Results.Json(error, Json, statusCode: error.UnknownSampleIds.Length > 0 ? 404 : 400)
            : Results.Json(reply, Json); // declared object: serialized as its runtime type
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record RestoreBody(int[]? Ids);

    private sealed record ReviewBody(int Id, string? Decision);
}
