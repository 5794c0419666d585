using System.Security.Cryptography;
using FaceCluster.Common.FaceSet;

namespace FaceCluster.GpuWorker.Training;

/// <summary>
/// Image bytes for a worker that may not see the coordinator's face-set folder. Each read takes the first source
/// whose bytes have the manifest's content hash: the local data folder (when given), then the cache (files named by
/// their content hash, so no path from the manifest touches this machine's file system), then the coordinator's
/// GET /api/faces/{id}, whose answer is verified and cached. Safe to call from several loader threads.
/// </summary>
public sealed class VerifiedFaceImageSource : IFaceImageSource
{
    private readonly LocalFaceImageSource? _local;
    private readonly string _cacheDir;
    private readonly Uri _baseUrl;
    private readonly HttpClient _http;
    private readonly ILogger _log;
    private long _localReads, _cacheHits, _downloads;
    private int _mismatchLogged;

    /// <param name="localRoot">This machine's copy of the face set, or null.</param>
    /// <param name="cacheDir">Where downloaded files are kept (created when needed).</param>
    /// <param name="baseUrl">The coordinator's HTTP API, e.g. http://host:5080.</param>
    public VerifiedFaceImageSource(string? localRoot, string cacheDir, string baseUrl, HttpClient http, ILogger logger)
    {
        _local = localRoot != null && Directory.Exists(localRoot) ? new LocalFaceImageSource(localRoot) : null;
        _cacheDir = Path.GetFullPath(cacheDir);
        _baseUrl = new Uri(baseUrl.TrimEnd('/') + "/");
        _http = http;
        _log = logger;
    }

    public long LocalReads => Interlocked.Read(ref _localReads);
    public long CacheHits => Interlocked.Read(ref _cacheHits);
    public long Downloads => Interlocked.Read(ref _downloads);

    /// <summary>The cache file of a content hash (hex digits only; anything else is refused).</summary>
    public string CachePathOf(FaceSample sample)
    {
        if (sample.ContentHash.Length != 64 || !sample.ContentHash.All(char.IsAsciiHexDigitLower))
            throw new IOException($"sample {sample.Id} has a malformed content hash '{sample.ContentHash}'");
        return Path.Combine(_cacheDir, sample.ContentHash[..2], sample.ContentHash);
    }

    public byte[] ReadBytes(FaceSample sample)
    {
        if (_local != null)
        {
            string path = _local.PathOf(sample);
            if (File.Exists(path))
            {
                var bytes = File.ReadAllBytes(path);
                if (Matches(bytes, sample)) { Interlocked.Increment(ref _localReads); return bytes; }
                if (Interlocked.Exchange(ref _mismatchLogged, 1) == 0)
                    _log.LogWarning("{Path} differs from the run's manifest (content hash); such files are fetched from the coordinator", path);
            }
        }
        string cached = CachePathOf(sample);
        if (File.Exists(cached))
        {
            try
            {
                var bytes = File.ReadAllBytes(cached);
                if (Matches(bytes, sample)) { Interlocked.Increment(ref _cacheHits); return bytes; }
            }
            catch (IOException) { }
            _log.LogWarning("Cached {Path} is damaged; fetching it again", cached);
        }
        return Download(sample, cached);
    }

    private byte[] Download(FaceSample sample, string cached)
    {
        var url = new Uri(_baseUrl, "api/faces/" + sample.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        byte[] bytes;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = _http.Send(request, HttpCompletionOption.ResponseContentRead);
            using var stream = response.Content.ReadAsStream();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            bytes = buffer.ToArray();
            if (!response.IsSuccessStatusCode)
                throw new IOException($"GET {url} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 300))}");
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"GET {url} failed: {e.Message}", e);
        }
        catch (TaskCanceledException e)
        {
            throw new IOException($"GET {url} timed out", e);
        }
        if (!Matches(bytes, sample))
            throw new IOException($"sample {sample.Id} from {url} does not have the manifest's content hash; refused");
        Store(cached, bytes);
        Interlocked.Increment(ref _downloads);
        return bytes;
    }

    private void Store(string path, byte[] bytes)
    {
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("Cannot cache {Path}: {Message}", path, e.Message);
            try { File.Delete(temp); } catch (IOException) { }
        }
    }

    private static bool Matches(ReadOnlySpan<byte> bytes, FaceSample sample)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return Convert.ToHexStringLower(hash) == sample.ContentHash;
    }
}
