using System.Security.Cryptography;
using System.Text;

namespace FaceCluster.Coordinator.Http;

/// <summary>The bearer token of the coordinator's mutating HTTP endpoints: 32 random bytes in hex, kept in the run folder (mode 600).</summary>
public static class ApiToken
{
    /// <summary>RUNDIR/api.token.</summary>
    public const string FileName = "api.token";

    /// <summary>Generates a new token into <paramref name="path"/> (replacing an old one): every coordinator start gets a fresh token.</summary>
    public static string Create(string path)
    {
        string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        try
        {
            // Created with mode 600 from the start (never readable by others, not even briefly).
            File.Delete(path);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(path, options))
            {
                stream.Write(Encoding.ASCII.GetBytes(token + "\n"));
                stream.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"cannot write the HTTP token {path}: {e.Message}");
        }
        return token;
    }

    /// <summary>Reads a token file (for `facecluster ledger --run`).</summary>
    public static string Read(string path)
    {
        try
        {
            string token = File.ReadAllText(path).Trim();
            if (token.Length == 0) throw new FaceClusterException($"the HTTP token file {path} is empty");
            return token;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"cannot read the HTTP token {path}: {e.Message} (is a coordinator running on this run folder?)");
        }
    }

    /// <summary>Constant-time check of an Authorization header value against the token.</summary>
    public static bool Matches(string? authorizationHeader, string token)
    {
        const string prefix = "Bearer ";
        if (authorizationHeader == null || !authorizationHeader.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return false;
        var given = Encoding.UTF8.GetBytes(authorizationHeader[prefix.Length..].Trim());
        var expected = Encoding.UTF8.GetBytes(token);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
