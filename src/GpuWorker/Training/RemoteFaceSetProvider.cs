using FaceCluster.Common.Hosting;
using System.Net;
using System.Net.Http.Json;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.IO;
using FaceCluster.Common.Models;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>
/// The face set of a worker on its own machine (`facecluster worker`): it proves to the coordinator's HTTP API that
/// it holds the cluster secret, fetches the run's manifest (GET /api/manifest, checked against the run's manifest
/// hash), and reads images through a <see cref="VerifiedFaceImageSource"/>: its own copy of the face set where the
/// bytes match, else the coordinator's, verified and cached under <c>CACHE/&lt;manifest hash&gt;</c>.
/// </summary>
public sealed class RemoteFaceSetProvider : IFaceSetProvider, IDisposable
{
    private readonly string? _localDataDir;
    private readonly string _cacheRoot;
    private readonly byte[] _secret;
    private readonly DecodedImageCache? _cache;
    private readonly int _loaderThreads;
    private readonly ILogger _log;
    private readonly HttpClient _http;

    /// <param name="localDataDir">This machine's copy of the face set (--data), or null to use the run's data root when it exists here.</param>
    /// <param name="cacheRoot">Downloads go to cacheRoot/&lt;manifest hash&gt;/.</param>
    /// <param name="trustedRoots">Roots trusted for a coordinator that serves HTTPS with the operator's own CA (--tls-ca); null: the system's.</param>
    public RemoteFaceSetProvider(string? localDataDir, string cacheRoot, byte[] secret, DecodedImageCache? cache, int loaderThreads, ILogger logger,
        System.Security.Cryptography.X509Certificates.X509Certificate2Collection? trustedRoots = null)
    {
        _localDataDir = localDataDir;
        _cacheRoot = Path.GetFullPath(cacheRoot);
        _secret = secret;
        _cache = cache;
        _loaderThreads = loaderThreads;
        _log = logger;
        _http = new HttpClient(new HttpSecretProof.Handler(secret, trustedRoots)) { Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>~/.cache/facecluster (or $XDG_CACHE_HOME/facecluster).</summary>
    public static string DefaultCacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "facecluster");
    }

    /// <summary>The image source of the last opened run (its read counters say where the images came from).</summary>
    public VerifiedFaceImageSource? Source { get; private set; }


    public async Task<IFaceSetView> OpenAsync(RunSpec run, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(run.HttpBaseUrl))
            throw new FaceClusterException("the coordinator announced no HTTP API, so this worker cannot fetch the run's manifest; start it with `facecluster coordinator --http HOST:PORT`");
        string baseUrl = run.HttpBaseUrl.TrimEnd('/');
        await CheckSecretAsync(baseUrl, cancellationToken).ConfigureAwait(false);

        string cacheDir = Path.Combine(_cacheRoot, SafeHashName(run.ManifestHash));
        Directory.CreateDirectory(cacheDir);
        byte[] json = await GetBytesAsync(baseUrl + "/api/manifest", cancellationToken).ConfigureAwait(false);
        string manifestPath = Path.Combine(cacheDir, ManifestStore.FileName);
        DurableFiles.WriteAllBytes(manifestPath, json);
        var manifest = ManifestStore.Load(manifestPath);
        if (manifest.ManifestHash != run.ManifestHash)
            throw new FaceClusterException($"the manifest from {baseUrl}/api/manifest ({manifest.ManifestHash[..12]}) is not the run's ({run.ManifestHash[..Math.Min(12, run.ManifestHash.Length)]})");

        string? localRoot = _localDataDir ?? (Directory.Exists(run.DataRoot) ? run.DataRoot : null);
        if (localRoot != null && !Directory.Exists(localRoot))
        {
            _log.LogInformation("The data folder {Path} is not here; images come from the coordinator ({Url})", localRoot, baseUrl);
            localRoot = null;
        }
        var source = new VerifiedFaceImageSource(localRoot, Path.Combine(cacheDir, "faces"), baseUrl, _http, _log);
        Source = source;
        _log.LogInformation("Face set {Hash}: {Count} samples; images from {Local}the coordinator at {Url}, cached in {Cache}",
            manifest.ManifestHash[..12], manifest.Samples.Count, localRoot != null ? localRoot + " where they match, else " : "", baseUrl, cacheDir);
        var preset = ModelPreset.Parse(run.Preset);
        var kind = FaceModelFactory.ParseKind(run.ModelKind) == ModelKind.Autoencoder ? BatchKind.Reconstruction : BatchKind.Plain;
        var augment = run.Augment ? AugmentOptions.Default : AugmentOptions.None;
        return new ManifestFaceSetView(manifest, run.Labels, source, _cache, preset.ImageSize, kind, augment, _loaderThreads, _log);
    }

    private async Task CheckSecretAsync(string baseUrl, CancellationToken cancellationToken)
    {
        string nonce = SecretProof.NewNonce();
        HttpResponseMessage response;
        try
        {
            response = await _http.PostAsJsonAsync(baseUrl + "/api/cluster/secret-check", new { nonce, proof = SecretProof.Compute(_secret, nonce) }, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new FaceClusterException($"cannot reach the coordinator's HTTP API at {baseUrl}: {e.Message} (start the coordinator with --http 0.0.0.0:PORT --public-host NAME so workers can reach it)");
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Forbidden)
                throw new FaceClusterException("this worker's cluster secret does not match the coordinator's: copy the coordinator's RUNDIR/cluster.secret (or its --secret-file) here and pass it with --secret-file");
            if (!response.IsSuccessStatusCode)
                throw new FaceClusterException($"{baseUrl}/api/cluster/secret-check answered {(int)response.StatusCode}");
        }
    }

    private async Task<byte[]> GetBytesAsync(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(url, cancellationToken).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new FaceClusterException($"GET {url} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 300))}");
            return bytes;
        }
        catch (HttpRequestException e)
        {
            throw new FaceClusterException($"GET {url} failed: {e.Message}");
        }
    }

    private static string SafeHashName(string hash) =>
        hash.Length is > 0 and <= 128 && hash.All(char.IsAsciiLetterOrDigit) ? hash : throw new FaceClusterException($"the run's manifest hash '{hash}' is malformed");

    public void Dispose() => _http.Dispose();
}
