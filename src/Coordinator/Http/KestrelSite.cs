using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FaceCluster.Coordinator.Http;

/// <summary>
/// The coordinator's Kestrel set-up, shared by the HTTP API (<see cref="CoordinatorHttpServer"/>) and the scan's
/// status server that answers on the same address before it (<see cref="ScanStatusServer"/>): one listener, HTTPS
/// with the given certificate, small request limits, and the URL workers and people are told.
/// </summary>
internal static class KestrelSite
{
    public static WebApplicationBuilder CreateBuilder(string host, int port, X509Certificate2? certificate, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        var address = ResolveBindAddress(host);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, port, listen =>
            {
                if (certificate is not null) listen.UseHttps(certificate);
            });
            k.Limits.MaxRequestBodySize = CoordinatorHttpServer.MaxRequestBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        return builder;
    }

    /// <summary>Starts <paramref name="app"/>; returns http(s)://host:port with the port actually bound (0 asks for any).</summary>
    public static async Task<string> StartAsync(WebApplication app, string host, int port, X509Certificate2? certificate, string? publicHost, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new FaceClusterException($"--http {EndpointText(host, port)}: cannot listen: {e.Message}", ExitCodes.UserError, e);
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (bound != null && Uri.TryCreate(bound, UriKind.Absolute, out var uri)) port = uri.Port;
        var address = ResolveBindAddress(host);
        string shown = publicHost ?? (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? Dns.GetHostName() : address.ToString());
        return (certificate != null ? "https://" : "http://") + EndpointText(shown, port);
    }

    private static string EndpointText(string host, int port) => host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";

    private static IPAddress ResolveBindAddress(string host)
    {
        if (host is "localhost") return IPAddress.Loopback;
        if (host is "*" or "+") return IPAddress.Any;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        try
        {
            return Dns.GetHostAddresses(host).OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).First();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new FaceClusterException($"--http: cannot resolve '{host}' to an address of this machine", ExitCodes.UsageError);
        }
    }
}
