
namespace FaceCluster.Common.Hosting;

/// <summary>How one FaceCluster node joins the Akka cluster (bound from flags, configuration or environment).</summary>
public sealed record ClusterNodeOptions
{
    public const string SystemName = "facecluster";
    public const string CoordinatorRole = "coordinator";
    public const string WorkerRole = "worker";

    /// <summary>Address Akka.Remote binds to.</summary>
    public string Hostname { get; init; } = "127.0.0.1";
    /// <summary>Port Akka.Remote binds to; 0 picks a free one.</summary>
    public int Port { get; init; }
    /// <summary>Name other nodes use to reach this one (NAT, containers); defaults to Hostname.</summary>
    public string? PublicHostname { get; init; }
    /// <summary>Seed nodes as host:port (the coordinator's --bind address). Empty: this node founds the cluster.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    public IReadOnlyList<string> Roles { get; init; } = [];
    /// <summary>Split Brain Resolver: how long membership must be stable before unreachable nodes are downed.</summary>
    public TimeSpan DowningStableAfter { get; init; } = TimeSpan.FromSeconds(7);
    /// <summary>
    /// The cluster's TLS identity (from its secret): Akka.Remote then runs mutual TLS and associates only with nodes
    /// of the same secret. Null only together with <see cref="Insecure"/>.
    /// </summary>
    public ClusterTls? Tls { get; init; }
    /// <summary>Plain TCP for Akka.Remote (the explicit --insecure of a single trusted host): anyone who reaches the port is a member.</summary>
    public bool Insecure { get; init; }
    /// <summary>Failure detector pause tolerance (a long GC or a busy GPU driver must not look like a crash).</summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>"host:port" → akka.tcp://facecluster@host:port, with a clear error for anything else.</summary>
    public static string SeedAddress(string hostPort, string flag = "--join", bool tls = false)
    {
        var (host, port) = ParseHostPort(hostPort, flag);
        return $"{(tls ? "akka.ssl.tcp" : "akka.tcp")}://{SystemName}@{host}:{port}";
    }

    public static (string Host, int Port) ParseHostPort(string text, string flag, bool allowZeroPort = false)
    {
        string t = (text ?? "").Trim();
        int colon = t.LastIndexOf(':');
        if (colon <= 0 || colon == t.Length - 1)
            throw new FaceClusterException($"{flag} '{text}' is not HOST:PORT", ExitCodes.UsageError);
        string host = t[..colon].Trim('[', ']');
        if (!int.TryParse(t[(colon + 1)..], out int port) || port < (allowZeroPort ? 0 : 1) || port > 65535)
            throw new FaceClusterException($"{flag} '{text}': the port must be a number from {(allowZeroPort ? 0 : 1)} to 65535", ExitCodes.UsageError);
        return (host, port);
    }

    /// <summary>--insecure is for a single trusted host: plain TCP on a loopback address only, refused otherwise.</summary>
    public static void RequireLoopbackForInsecure(string host, string flag)
    {
        bool loopback = host is "localhost" || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
        if (!loopback)
            throw new FaceClusterException($"{flag} {host} with --insecure: plain TCP is only for a single trusted host; bind to 127.0.0.1, or drop --insecure " +
                                           "(mutual TLS with the key derived from the cluster secret)", ExitCodes.UsageError);
    }

    /// <summary>An address of this machine for a bind flag: an IP, "localhost", "0.0.0.0"/"::", or a name that resolves.</summary>
    public static System.Net.IPAddress ResolveLocal(string host, string flag)
    {
        if (host is "localhost") return System.Net.IPAddress.Loopback;
        if (System.Net.IPAddress.TryParse(host, out var ip)) return ip;
        try
        {
            return System.Net.Dns.GetHostAddresses(host).OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).First();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException or ArgumentException)
        {
            throw new FaceClusterException($"{flag}: cannot resolve '{host}' to an address of this machine", ExitCodes.UsageError);
        }
    }
}
