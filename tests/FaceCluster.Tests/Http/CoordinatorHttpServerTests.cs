using FaceCluster.Common.Hosting;
using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Akka.Actor;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Telemetry;
using FaceCluster.Coordinator.Http;
using FaceCluster.Coordinator.Runs;
using FaceCluster.GpuWorker.Training;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.Http;

/// <summary>The coordinator's HTTP API against a stand-in coordinator and a real ledger: tokens, what may be served, JSON shapes.</summary>
[Trait("Tier", "unit")]
public sealed class CoordinatorHttpServerTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly ScratchFolder _temp = new("fc-http");
    private readonly byte[] _secret = "0123456789abcdef0123456789abcdef"u8.ToArray();
    /// <summary>No credentials.</summary>
    private readonly HttpClient _http = new();
    /// <summary>A person or tool with the API token.</summary>
    private readonly HttpClient _person = new();
    /// <summary>A worker: every request signed with the cluster secret.</summary>
    private HttpClient _worker = null!;
    private FaceManifest _manifest = null!;
    private CoordinatorHttpServer _server = null!;
    private string _token = "";

    public CoordinatorHttpServerTests() : base("akka.loglevel = WARNING") { }

    public async Task InitializeAsync()
    {
        string faces = ClusterFixtures.TinyFaceSet(_temp.Combine("faces"), perIdentity: 4);
        string run = _temp.Combine("run");
        var scan = ManifestStore.LoadOrBuild(faces, run, ScanOptions.Default with { MinImages = 1 });
        _manifest = scan.Manifest;
        _token = ApiToken.Create(Path.Combine(run, "api.token"));
        var ledger = LedgerWiring.PropsFor(run, _manifest, CurationPolicyOptions.Default, QuarantineAction.Exclude, NullLoggerFactory.Instance);
        var coordinator = Sys.ActorOf(Props.Create(() => new FakeCoordinator(ledger())), "coordinator");
        var previews = Path.Combine(run, "previews");
        Directory.CreateDirectory(previews);
        File.WriteAllBytes(Path.Combine(previews, "step-4.png"), TestImages.FaceBytes(".png", 1));
        File.WriteAllBytes(Path.Combine(previews, "latest.png"), TestImages.FaceBytes(".png", 1));
        var options = new CoordinatorHttpOptions("127.0.0.1", 0, _manifest, File.ReadAllBytes(scan.ManifestPath), _token, _secret) { PreviewsDir = previews };
        _server = await CoordinatorHttpServer.StartAsync(options, coordinator, NullLoggerFactory.Instance);
        _person.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        _worker = new HttpClient(new HttpSecretProof.Handler(_secret));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _http.Dispose();
        _person.Dispose();
        _worker.Dispose();
        _temp.Dispose();
    }

    private string Url(string path) => _server.Url + path;

    [Fact]
    public async Task Mutations_need_the_bearer_token()
    {
        int id = _manifest.TrainingSamples.First().Id;
        var body = JsonContent.Create(new { ids = new[] { id } });
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.PostAsync(Url("/api/ledger/restore"), body)).StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, Url("/api/ledger/restore")) { Content = JsonContent.Create(new { ids = new[] { id } }) };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", new string('0', _token.Length));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(wrong)).StatusCode);

        var ok = await Send(HttpMethod.Post, "/api/ledger/restore", new { ids = new[] { id } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var restored = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, restored.GetProperty("sampleIds")[0].GetInt32());

        var unknown = await Send(HttpMethod.Post, "/api/ledger/restore", new { ids = new[] { 987654 } });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("987654", await unknown.Content.ReadAsStringAsync());

        var review = await Send(HttpMethod.Post, "/api/ledger/review", new { id, decision = "keep" });
        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, "/api/ledger/review", new { id, decision = "maybe" })).StatusCode);

        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_temp.Combine("run", "api.token")));
    }

    [Fact]
    public async Task Queries_answer_with_the_replies_as_camel_case_json()
    {
        var status = await _person.GetFromJsonAsync<JsonElement>(Url("/api/status"));
        Assert.Equal("run-x", status.GetProperty("runId").GetString());
        Assert.Equal("running", status.GetProperty("phase").GetString());
        Assert.Equal(7, status.GetProperty("step").GetInt64());
        Assert.Equal("w1", status.GetProperty("workers")[0].GetProperty("id").GetString());

        var stats = await _person.GetFromJsonAsync<JsonElement>(Url("/api/ledger/stats"));
        Assert.Equal(_manifest.TrainingSamples.Count(), stats.GetProperty("samples").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await _person.GetAsync(Url("/api/ledger/worst?n=5"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _person.GetAsync(Url("/api/ledger/worst?n=0"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _person.GetAsync(Url("/api/ledger/identities"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _person.GetAsync(Url("/api/ledger/quarantine"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _person.GetAsync(Url("/api/ledger/review"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _person.GetAsync(Url("/api/ledger/curves"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _person.GetAsync(Url($"/api/ledger/sample/{_manifest.TrainingSamples.First().Id}"))).StatusCode);
        var missing = await _person.GetAsync(Url("/api/ledger/sample/987654"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("987654", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());

        var page = await _person.GetAsync(Url("/"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);

        var manifest = await _worker.GetFromJsonAsync<JsonElement>(Url("/api/manifest"));
        Assert.Equal(_manifest.ManifestHash, manifest.GetProperty("manifestHash").GetString());
    }

    [Fact]
    public async Task Faces_are_served_by_manifest_id_only()
    {
        var sample = _manifest.Samples.First();
        var answer = await _worker.GetAsync(Url($"/api/faces/{sample.Id}"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.StartsWith("image/", answer.Content.Headers.ContentType!.MediaType);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_manifest.DataRoot, sample.RelativePath)), await answer.Content.ReadAsByteArrayAsync());

        foreach (string bad in new[] { "987654", "-1", "1.0", "%2E%2E%2Fmanifest.json", "..%2F..%2Fetc%2Fpasswd", sample.RelativePath.Replace("/", "%2F") })
            Assert.Equal(HttpStatusCode.NotFound, (await _worker.GetAsync(Url("/api/faces/" + bad))).StatusCode);
    }

    [Fact]
    public async Task A_manifest_file_replaced_by_a_link_out_of_the_face_set_is_refused()
    {
        var sample = _manifest.Samples.First();
        string path = Path.Combine(_manifest.DataRoot, sample.RelativePath);
        string outside = _temp.Combine("outside.bin");
        File.Copy(path, outside); // the same bytes: only where the file lies refuses it
        File.Delete(path);
        File.CreateSymbolicLink(path, outside);
        var answer = await _worker.GetAsync(Url($"/api/faces/{sample.Id}"));
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("outside the face-set folder", await answer.Content.ReadAsStringAsync());

        // A link that stays inside the face set is fine.
        File.Delete(path);
        string inside = Path.Combine(_manifest.DataRoot, "copy-" + Path.GetFileName(path));
        File.Copy(outside, inside);
        File.CreateSymbolicLink(path, inside);
        Assert.Equal(HttpStatusCode.OK, (await _worker.GetAsync(Url($"/api/faces/{sample.Id}"))).StatusCode);
    }

    [Fact]
    public void A_worker_keeps_only_downloads_with_the_manifest_hash_and_reads_them_back_from_its_cache()
    {
        var sample = _manifest.Samples.First();
        string cache = _temp.Combine("worker-cache");
        var source = new VerifiedFaceImageSource(_temp.Combine("no-such-folder"), cache, _server.Url, _worker, NullLogger.Instance);

        var forged = sample with { ContentHash = new string('a', 64) };
        var refused = Assert.Throws<IOException>(() => source.ReadBytes(forged));
        Assert.Contains("content hash", refused.Message);
        Assert.False(File.Exists(source.CachePathOf(forged)));

        byte[] bytes = source.ReadBytes(sample);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_manifest.DataRoot, sample.RelativePath)), bytes);
        Assert.Equal(bytes, File.ReadAllBytes(source.CachePathOf(sample)));
        Assert.Equal(bytes, source.ReadBytes(sample));
        Assert.Equal((1L, 1L, 0L), (source.Downloads, source.CacheHits, source.LocalReads));

        File.WriteAllBytes(source.CachePathOf(sample), [1, 2, 3]); // a damaged cache entry is fetched again
        Assert.Equal(bytes, source.ReadBytes(sample));
        Assert.Equal(2, source.Downloads);
    }

    [Fact]
    public async Task Secret_check_and_metrics()
    {
        string nonce = SecretProof.NewNonce();
        var good = await _worker.PostAsJsonAsync(Url("/api/cluster/secret-check"), new { nonce, proof = SecretProof.Compute(_secret, nonce) });
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var bad = await _worker.PostAsJsonAsync(Url("/api/cluster/secret-check"), new { nonce, proof = SecretProof.Compute("another secret, 32 bytes long...."u8.ToArray(), nonce) });
        Assert.Equal(HttpStatusCode.Forbidden, bad.StatusCode);

        FaceClusterMetrics.StepCompleted("http-test-worker", 8, 10, 1, 2, countsStep: true);
        string metrics = await _person.GetStringAsync(Url("/metrics"));
        Assert.Contains("facecluster_steps_total", metrics);
        Assert.Contains("facecluster_allreduce_seconds", metrics);
        Assert.Matches(@"facecluster_samples_total\{[^}]*worker=""http-test-worker""[^}]*\} [1-9]", metrics); // a counter, by worker
        Assert.Contains("worker=\"http-test-worker\"", metrics);
    }

    [Fact]
    public async Task Nothing_but_the_health_probe_and_the_dashboard_page_answers_without_credentials()
    {
        var face = await _http.GetAsync(Url("/api/faces/0"));
        Assert.Equal(HttpStatusCode.Unauthorized, face.StatusCode);
        Assert.Contains("needs credentials", await face.Content.ReadAsStringAsync());
        foreach (string path in new[] { "/api/manifest", $"/api/faces/{_manifest.Samples.First().Id}", "/api/status", "/api/ledger/stats", "/api/ledger/worst", "/metrics", "/api/previews", "/api/previews/4" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync(Url(path))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(Url(HttpCredentials.HealthPath))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(Url("/"))).StatusCode); // the page itself asks for the token
    }

    [Fact]
    public async Task The_previews_are_listed_by_step_and_served_by_step_number_only()
    {
        var list = await _person.GetFromJsonAsync<JsonElement>(Url("/api/previews"));
        Assert.Equal([4L], list.GetProperty("steps").EnumerateArray().Select(e => e.GetInt64()));
        var png = await _person.GetAsync(Url("/api/previews/4"));
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _person.GetAsync(Url("/api/previews/5"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _person.GetAsync(Url("/api/previews/latest"))).StatusCode); // numbers only
        Assert.Equal(HttpStatusCode.Unauthorized, (await _worker.GetAsync(Url("/api/previews/4"))).StatusCode);
    }

    [Fact]
    public async Task A_worker_proof_opens_only_what_a_worker_needs_for_that_request_and_only_while_it_is_fresh()
    {
        string path = $"/api/faces/{_manifest.Samples.First().Id}";
        Assert.Equal(HttpStatusCode.OK, (await _worker.GetAsync(Url(path))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _worker.GetAsync(Url("/api/ledger/stats"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _worker.GetAsync(Url("/api/status"))).StatusCode);
        async Task<HttpStatusCode> With(string header)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Url(path));
            request.Headers.TryAddWithoutValidation("Authorization", header);
            return (await _http.SendAsync(request)).StatusCode;
        }
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.OK, await With(HttpSecretProof.Header(_secret, "GET", path, now)));
        Assert.Equal(HttpStatusCode.Unauthorized, await With(HttpSecretProof.Header("another secret, 32 bytes long...."u8.ToArray(), "GET", path, now)));
        Assert.Equal(HttpStatusCode.Unauthorized, await With(HttpSecretProof.Header(_secret, "GET", "/api/faces/999999", now)));
        Assert.Equal(HttpStatusCode.Unauthorized, await With(HttpSecretProof.Header(_secret, "GET", path, now - TimeSpan.FromMinutes(6))));
    }

    [Fact]
    public async Task A_browser_gives_the_token_once_and_then_holds_a_session_cookie()
    {
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies });
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(Url("/api/status"))).StatusCode);
        await browser.GetAsync(Url("/?token=" + new string('0', _token.Length))); // a wrong token opens nothing
        Assert.Empty(cookies.GetCookies(new Uri(_server.Url)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(Url("/api/status"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(Url("/?token=" + _token))).StatusCode);
        var cookie = Assert.Single(cookies.GetCookies(new Uri(_server.Url)));
        Assert.True(cookie.HttpOnly);
        Assert.DoesNotContain(_token, cookie.Value);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(Url("/api/status"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(Url($"/api/faces/{_manifest.Samples.First().Id}"))).StatusCode);
    }

    [Fact]
    public async Task A_request_body_over_the_limit_is_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("/api/ledger/restore"))
        {
            Content = new ByteArrayContent(new byte[CoordinatorHttpServer.MaxRequestBodyBytes + 1]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _http.SendAsync(request)).StatusCode);
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, Url(path)) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return await _http.SendAsync(request);
    }
}
