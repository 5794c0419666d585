using System.Security.Cryptography;
using System.Text;
using FaceCluster.Common.Hosting;
using Microsoft.AspNetCore.Http;

namespace FaceCluster.Coordinator.Http;

/// <summary>
/// Who may use the coordinator's HTTP API. Every route needs credentials except the health probe
/// (<see cref="HealthPath"/>), the secret check (<see cref="SecretCheckPath"/>: it answers yes or no to a proof in its
/// body) and the dashboard's own page and scripts, which hold no data and ask for the token:
/// <list type="bullet">
/// <item>people and tools: the API token (RUNDIR/api.token) as <c>Authorization: Bearer TOKEN</c>; a browser gives it
///   once (<c>/?token=TOKEN</c>) and then holds a session cookie (HttpOnly, SameSite=Strict) derived from it;</item>
/// <item>workers: a proof made with the cluster secret (<see cref="HttpSecretProof"/>), which reads what a worker
///   needs (the manifest, faces) and nothing that changes the run.</item>
/// </list>
/// A request without them gets 401 and says what it needs.
/// </summary>
public static class HttpCredentials
{
    public const string HealthPath = "/healthz";
    public const string SessionCookie = "facecluster_session";

    /// <summary>The routes a worker's secret proof opens (GET only).</summary>
    private static readonly string[] WorkerRoutes = ["/api/manifest", "/api/faces/"];

    /// <summary>Answers only whether the proof in its body was made with the cluster's secret (so a worker with another one hears why).</summary>
    public const string SecretCheckPath = "/api/cluster/secret-check";

    public static Func<HttpContext, RequestDelegate, Task> Require(string token, byte[] secret)
    {
        string session = Session(token);
        return async (context, next) =>
        {
            var request = context.Request;
            string path = request.Path.Value ?? "/";
            bool mutating = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method));
            string? given = request.Query["token"];
            bool tokenGiven = ApiToken.Matches(request.Headers.Authorization, token) || (given != null && Equal(given, token));
            if (tokenGiven)
                context.Response.Cookies.Append(SessionCookie, session, new CookieOptions
                {
                    HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = request.IsHttps, Path = "/", IsEssential = true,
                });
            bool person = tokenGiven || (request.Cookies[SessionCookie] is { } cookie && Equal(cookie, session));
            bool worker = !person && !mutating && WorkerRoutes.Any(r => path.StartsWith(r, StringComparison.Ordinal))
                          && HttpSecretProof.Verify(secret, request.Headers.Authorization, request.Method, path, DateTimeOffset.UtcNow);
            if (person || worker || path is HealthPath or SecretCheckPath || (!mutating && IsDashboardPage(path)))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsJsonAsync(new ApiError(
                $"{path} needs credentials: 'Authorization: Bearer <token>' (the token is in the run folder's api.token; a browser opens /?token=<token> once), " +
                "or a worker's proof of the cluster secret"), CoordinatorHttpServer.Json).ConfigureAwait(false);
        };
    }

    private static bool IsDashboardPage(string path) => path is "/" or "/dashboard" || path.StartsWith("/dashboard/", StringComparison.Ordinal);

    /// <summary>The session cookie's value: derived from the token, so a restarted coordinator (a new token) ends every session.</summary>
    private static string Session(string token) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "facecluster-dashboard-session"u8));

    private static bool Equal(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
