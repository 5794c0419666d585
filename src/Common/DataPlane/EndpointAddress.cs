using System.Net;
using System.Net.Sockets;

namespace FaceCluster.Common.DataPlane;

/// <summary>Parsing, formatting and resolving the "host:port" strings that name data-plane endpoints.</summary>
internal static class EndpointAddress
{
    /// <summary>Splits "host:port", "1.2.3.4:port" or "[v6]:port".</summary>
    public static bool TryParse(string? text, out string host, out int port)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        int colon;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 2 || close + 1 >= text.Length || text[close + 1] != ':') return false;
            host = text[1..close];
            colon = close + 1;
        }
        else
        {
            colon = text.LastIndexOf(':');
            if (colon <= 0) return false;
            host = text[..colon];
            if (host.Contains(':')) return false;
        }
        return int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port)
               && port is >= 1 and <= 65535;
    }

    public static string Format(string host, int port) => host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";

    public static string Format(IPEndPoint endpoint) => Format(endpoint.Address.ToString(), endpoint.Port);

    /// <summary>Resolves a "host:port" string, preferring IPv4 when a name has both kinds of address.</summary>
    public static async Task<IPEndPoint> ResolveAsync(string endpoint, CancellationToken cancellationToken)
    {
        if (!TryParse(endpoint, out string host, out int port))
            throw new ArgumentException($"the data-plane endpoint '{endpoint}' is not host:port", nameof(endpoint));
        if (IPAddress.TryParse(host, out var literal))
            return new IPEndPoint(literal, port);
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        IPAddress? pick = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
        if (pick is null)
            throw new SocketException((int)SocketError.HostNotFound);
        return new IPEndPoint(pick, port);
    }
}
