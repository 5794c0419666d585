using System.Net.Http.Headers;
using FaceCluster.Coordinator.Http;

namespace FaceCluster.Tests.Support;

/// <summary>An HttpClient for a coordinator's API with the run folder's token, read afresh for every request (a restarted coordinator writes a new one).</summary>
internal static class RunTokenClient
{
    public static HttpClient For(string runDir) => new(new TokenHandler(Path.Combine(runDir, ApiToken.FileName)));

    private sealed class TokenHandler(string tokenPath) : DelegatingHandler(new HttpClientHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(tokenPath).Trim());
            return base.SendAsync(request, cancellationToken);
        }
    }
}
