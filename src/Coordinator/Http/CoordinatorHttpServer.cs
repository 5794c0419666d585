using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Telemetry;
using FaceCluster.Coordinator.ControlPlane;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace FaceCluster.Coordinator.Http;

/// <summary>
/// The coordinator's HTTP API (Kestrel, minimal API): run status, the manifest and its face files for workers
/// without the data folder, the ledger's queries and commands, and a Prometheus
/// scrape of the "FaceCluster" meter at /metrics. Everything but the health probe and the dashboard's own page needs
/// credentials (<see cref="HttpCredentials"/>).
/// </summary>
public sealed class CoordinatorHttpServer : IAsyncDisposable
{
    /// <summary>JSON of every answer: camelCase, enums as strings, NaN/∞ written as strings rather than failing.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The largest request body accepted (the API takes lists of sample ids, nothing bigger).</summary>
    public const long MaxRequestBodyBytes = 1 << 20;

    private readonly WebApplication _app;

    private CoordinatorHttpServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>http(s)://host:port of the running server (the actual port when 0 was asked for); workers use this scheme.</summary>
    public string Url { get; }

    /// <summary>Starts the server; <paramref name="coordinator"/> is the coordinator singleton (its proxy).</summary>
    public static Task<CoordinatorHttpServer> StartAsync(CoordinatorHttpOptions options, IActorRef coordinator, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default) =>
        StartAsync(options, Task.FromResult(coordinator), loggerFactory, cancellationToken);

    /// <summary>
    /// Starts the server before the coordinator exists (its URL goes into the run's spec): the manifest and faces are
    /// served at once; requests to the coordinator wait for <paramref name="coordinator"/>.
    /// </summary>
    public static async Task<CoordinatorHttpServer> StartAsync(CoordinatorHttpOptions options, Task<IActorRef> coordinator, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        var builder = KestrelSite.CreateBuilder(options.Host, options.Port, options.TlsCertificate, loggerFactory);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(FaceClusterMetrics.MeterName).AddPrometheusExporter());
        var app = builder.Build();
        app.Use(HttpCredentials.Require(options.Token, options.Secret));
        MapRoutes(app, options, coordinator);
        string url = await KestrelSite.StartAsync(app, options.Host, options.Port, options.TlsCertificate, options.PublicHost, cancellationToken).ConfigureAwait(false);
        return new CoordinatorHttpServer(app, url);
    }

    private static void MapRoutes(WebApplication app, CoordinatorHttpOptions options, Task<IActorRef> coordinator)
    {
        var faces = new FaceFileResolver(options.Manifest);
        var timeout = options.AskTimeout;

        app.MapGet(HttpCredentials.HealthPath, () => Results.Json(new { status = "ok" }, Json));

        app.MapGet("/api/status", async () =>
        {
            try
            {
                var actor = await coordinator.WaitAsync(timeout).ConfigureAwait(false);
                var status = await actor.Ask<ClusterStatus>(GetClusterStatus.Instance, timeout).ConfigureAwait(false);
                return Results.Json(ToResponse(status), Json);
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                return Error(StatusCodes.Status504GatewayTimeout, $"the coordinator did not answer within {timeout.TotalSeconds:F0} s");
            }
        });

        app.MapGet("/api/manifest", () => Results.Bytes(options.ManifestJson, "application/json"));

        app.MapGet("/api/faces/{id}", (string id) =>
        {
            if (!int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int sampleId))
                return Error(StatusCodes.Status404NotFound, $"'{Truncate(id)}' is not a sample id");
            var found = faces.Read(sampleId);
            return found.Bytes != null ? Results.Bytes(found.Bytes, found.ContentType) : Error(found.Status, found.Message);
        });

        app.MapPost("/api/cluster/secret-check", (SecretCheckRequest? body) =>
            SecretProof.Verify(options.Secret, body?.Nonce, body?.Proof)
                ? Results.Json(new { ok = true }, Json)
                : Error(StatusCodes.Status403Forbidden, "the cluster secret does not match the coordinator's"));

        app.MapGet("/api/ledger/stats", () => AskLedger(coordinator, GetLedgerStats.Instance, timeout));
        app.MapGet("/api/ledger/worst", (int? n, bool? includeQuarantined) =>
            n is < 1 or > 100_000 ? Task.FromResult(Error(StatusCodes.Status400BadRequest, $"n={n}: ask for 1 to 100000 samples"))
                : AskLedger(coordinator, new GetWorstSamples(n ?? 50, includeQuarantined ?? false), timeout));
        app.MapGet("/api/ledger/sample/{id}", (string id) =>
            int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int sampleId)
                ? AskLedger(coordinator, new GetSampleHistory(sampleId), timeout)
                : Task.FromResult(Error(StatusCodes.Status404NotFound, $"'{Truncate(id)}' is not a sample id")));
        app.MapGet("/api/ledger/identities", () => AskLedger(coordinator, GetLedgerIdentities.Instance, timeout));
        app.MapGet("/api/ledger/quarantine", (bool? includeRestored) => AskLedger(coordinator, new GetQuarantine(includeRestored ?? false), timeout));
        app.MapGet("/api/ledger/review", () => AskLedger(coordinator, GetReviewQueue.Instance, timeout));
        app.MapGet("/api/ledger/curves", (int? points) =>
            points is < 2 or > 100_000 ? Task.FromResult(Error(StatusCodes.Status400BadRequest, $"points={points}: ask for 2 to 100000 points"))
                : AskLedger(coordinator, new GetLossCurves(points ?? 512), timeout));

        app.MapPost("/api/ledger/restore", (RestoreRequest? body) =>
            body?.Ids is not { Length: > 0 } ids
                ? Task.FromResult(Error(StatusCodes.Status400BadRequest, "the body must be {\"ids\": [sample ids...]}"))
                : AskLedger(coordinator, new RestoreSamples(ids, string.IsNullOrWhiteSpace(body.Reason) ? "restored over HTTP" : body.Reason), timeout));
        app.MapPost("/api/ledger/review", (ReviewRequest? body) =>
            body?.Id is not int id || body.Decision is not ("quarantine" or "keep")
                ? Task.FromResult(Error(StatusCodes.Status400BadRequest, "the body must be {\"id\": sample id, \"decision\": \"quarantine\" | \"keep\"}"))
                : AskLedger(coordinator, new ReviewDecision(id, body.Decision == "quarantine"), timeout));

        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapDashboard();
        app.MapPreviews(options.PreviewsDir);
    }

    private static async Task<IResult> AskLedger(Task<IActorRef> coordinator, ILedgerRequest request, TimeSpan timeout)
    {
        object reply;
        try
        {
            var actor = await coordinator.WaitAsync(timeout).ConfigureAwait(false);
            reply = await actor.Ask<object>(request, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            return Error(StatusCodes.Status504GatewayTimeout, $"the ledger did not answer within {timeout.TotalSeconds:F0} s");
        }
        return reply switch
        {
            LedgerError { UnknownSampleIds.Length: > 0 } e => Error(StatusCodes.Status404NotFound, e.Message, e.UnknownSampleIds),
            LedgerError e => Error(StatusCodes.Status400BadRequest, e.Message),
            Status.Failure f => Error(StatusCodes.Status503ServiceUnavailable, f.Cause?.Message ?? "the ledger failed"),
            _ => Results.Json(reply, Json),
        };
    }

    private static IResult Error(int status, string message, int[]? unknown = null) => Results.Json(new ApiError(message, unknown), Json, statusCode: status);

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";

    private static StatusResponse ToResponse(ClusterStatus s)
    {
        var workers = s.Workers.Select(w => new WorkerStatusResponse(w.Id, w.Host, w.Device, w.State, w.Batch, w.SamplesPerSecond, w.LastStep, w.Note,
            w.ReplicaStep, w.Checksum, w.Memory, w.Utilization, w.Telemetry)).ToArray();
        double? loss = double.IsFinite(s.MeanLoss) ? s.MeanLoss : null;
        // Within a segment the coordinator's step moves only at its end; the members' reports say how far it has got.
        long step = Math.Max(s.Step, s.Workers.Where(w => w.State == "active").Select(w => w.LastStep + 1).DefaultIfEmpty(0).Max());
        return new StatusResponse(s.RunId, s.State, step, s.Cycle, s.TotalSteps, s.Generation, s.GlobalBatch, s.SamplesPerSecond, loss,
            s.Quarantined, s.LastCheckpointStep, workers, s.LedgerWrites);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(timeout.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
