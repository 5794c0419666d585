using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Cli.Commands;

/// <summary>Asks a live coordinator's ledger over its HTTP API (GET /api/ledger/..., POST ...), with the API token.</summary>
internal static class LedgerHttpClient
{
    public static object Ask(string baseUrl, ILedgerRequest request, string? token, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root) || (root.Scheme != "http" && root.Scheme != "https"))
            throw new FaceClusterException($"--url '{baseUrl}' is not an http:// or https:// address", ExitCodes.UsageError);
        using var http = new HttpClient { BaseAddress = root, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (token != null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var (method, path, body, replyType) = Route(request);
        if (token == null)
            throw new FaceClusterException("asking a live ledger needs the coordinator's API token: --token TOKEN, or --run RUNDIR to read RUNDIR/api.token", ExitCodes.UsageError);
        HttpResponseMessage response;
        try
        {
            response = method == HttpMethod.Post
                ? http.PostAsJsonAsync(path, body, LedgerCommand.JsonOptions).GetAwaiter().GetResult()
                : http.GetAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new FaceClusterException($"no answer from the coordinator at {root}: {e.Message}");
        }
        using (response)
        {
            string text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                throw new FaceClusterException($"the coordinator at {root} refused the API token (401): pass the token printed at its start, or --run RUNDIR to read RUNDIR/api.token", ExitCodes.UserError);
            if (!response.IsSuccessStatusCode)
            {
                string message = text;
                try
                {
                    using var doc = JsonDocument.Parse(text);
                    if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var m)) message = m.GetString() ?? text;
                }
                catch (JsonException) { }
                throw new FaceClusterException($"the coordinator at {root} answered {(int)response.StatusCode} to {path}: {message}", ExitCodes.UserError);
            }
            try
            {
                return JsonSerializer.Deserialize(text, replyType, LedgerCommand.JsonOptions)
                       ?? throw new FaceClusterException($"the coordinator at {root} answered {path} with nothing");
            }
            catch (JsonException e)
            {
                throw new FaceClusterException($"the coordinator at {root} answered {path} with JSON this build cannot read ({e.Message}); are both the same build?");
            }
        }
    }

    private static (HttpMethod Method, string Path, object? Body, Type Reply) Route(ILedgerRequest request) => request switch
    {
        GetLedgerStats => (HttpMethod.Get, "api/ledger/stats", null, typeof(LedgerStats)),
        GetWorstSamples q => (HttpMethod.Get, $"api/ledger/worst?n={q.Count}&includeQuarantined={(q.IncludeQuarantined ? "true" : "false")}", null, typeof(WorstSamples)),
        GetSampleHistory q => (HttpMethod.Get, $"api/ledger/sample/{q.SampleId}", null, typeof(SampleHistory)),
        GetLedgerIdentities => (HttpMethod.Get, "api/ledger/identities", null, typeof(LedgerIdentities)),
        GetQuarantine q => (HttpMethod.Get, $"api/ledger/quarantine?includeRestored={(q.IncludeRestored ? "true" : "false")}", null, typeof(QuarantineList)),
        GetReviewQueue => (HttpMethod.Get, "api/ledger/review", null, typeof(ReviewQueue)),
        GetLossCurves q => (HttpMethod.Get, $"api/ledger/curves?points={q.MaxPoints}", null, typeof(LossCurves)),
        RestoreSamples c => (HttpMethod.Post, "api/ledger/restore", new { ids = c.SampleIds }, typeof(SamplesRestored)),
        ReviewDecision c => (HttpMethod.Post, "api/ledger/review", new { id = c.SampleId, decision = c.Quarantine ? "quarantine" : "keep" }, typeof(ReviewRecorded)),
        _ => throw new FaceClusterException($"the HTTP API has no route for {request.GetType().Name}", ExitCodes.UsageError),
    };
}
