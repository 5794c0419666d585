using FaceCluster.Common.IO;
using System.Security.Cryptography;

namespace FaceCluster.Coordinator.Http;

/// <summary>
/// Serves only the manifest's files: a request names a sample id, never a path. The sample's file is resolved with
/// every symbolic link followed and must still lie inside the (resolved) data root, and its bytes must still have
/// the manifest's content hash.
/// </summary>
public sealed class FaceFileResolver
{
    private readonly Dictionary<int, FaceSample> _samples;
    private readonly string _root;

    public FaceFileResolver(FaceManifest manifest)
    {
        _samples = manifest.Samples.ToDictionary(s => s.Id);
        _root = Path.TrimEndingDirectorySeparator(RealPaths.Resolve(manifest.DataRoot));
    }

    /// <summary>The outcome of a lookup: the bytes and their media type, or an HTTP status with a message.</summary>
    public sealed record Lookup(int Status, byte[]? Bytes, string ContentType, string Message);

    public Lookup Read(int sampleId)
    {
        if (!_samples.TryGetValue(sampleId, out var sample))
            return new Lookup(404, null, "", $"sample {sampleId} is not in the run's manifest");
        string full;
        try
        {
            full = RealPaths.Resolve(Path.Combine(_root, sample.RelativePath.Replace('/', Path.DirectorySeparatorChar)));
        }
        catch (IOException e)
        {
            return new Lookup(403, null, "", $"sample {sampleId}: {e.Message}");
        }
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            return new Lookup(403, null, "", $"sample {sampleId}: its file resolves outside the face-set folder; refused");
        byte[] bytes;
        try { bytes = RegularFiles.ReadAtMost(full, sample.SizeBytes); } // a bigger file fails the hash check below
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Lookup(404, null, "", $"sample {sampleId} ({sample.RelativePath}) cannot be read: {e.Message}");
        }
        if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != sample.ContentHash)
            return new Lookup(409, null, "", $"sample {sampleId} ({sample.RelativePath}) changed since the scan (content hash differs); rescan the face set");
        return new Lookup(200, bytes, ContentTypeOf(bytes), "");
    }

    public static string ContentTypeOf(ReadOnlySpan<byte> d)
    {
        if (d.Length >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return "image/jpeg";
        if (d.Length >= 8 && d[0] == 0x89 && d[1] == (byte)'P' && d[2] == (byte)'N' && d[3] == (byte)'G') return "image/png";
        if (d.Length >= 2 && d[0] == (byte)'B' && d[1] == (byte)'M') return "image/bmp";
        if (d.Length >= 12 && d[..4].SequenceEqual("RIFF"u8) && d[8..12].SequenceEqual("WEBP"u8)) return "image/webp";
        if (d.Length >= 2 && d[0] == (byte)'P' && d[1] is (byte)'2' or (byte)'5') return "image/x-portable-graymap";
        return "application/octet-stream";
    }
}
