using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FaceCluster.Coordinator.Http;

/// <summary>
/// The operator dashboard: index.html, app.js and app.css from src/Coordinator/Http/Dashboard, embedded in the
/// assembly (resource names "dashboard/FILE"), served at / and /dashboard/*. The page itself only calls the JSON
/// routes under /api; it needs nothing from outside the coordinator (no CDN).
/// </summary>
public static class DashboardAssets
{
    private const string ResourcePrefix = "dashboard/";
    private const string IndexFile = "index.html";

    private static readonly Assembly Source = typeof(DashboardAssets).Assembly;

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
    };

    /// <summary>The embedded file names (e.g. "index.html", "app.js").</summary>
    public static IReadOnlyList<string> Files { get; } = Source.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>
    /// Opens the embedded file for a request path: "/", "", "/dashboard" and "/dashboard/" give index.html;
    /// "/dashboard/app.js" or "app.js" give that file. Any other path (unknown names, "..", sub-folders) gives false.
    /// </summary>
    public static bool TryOpen(string path, out Stream content, out string contentType)
    {
        content = Stream.Null;
        contentType = "";
        string name = (path ?? "").Trim();
        int query = name.IndexOfAny(['?', '#']);
        if (query >= 0) name = name[..query];
        name = name.TrimStart('/');
        if (name.Equals("dashboard", StringComparison.OrdinalIgnoreCase)) name = "";
        else if (name.StartsWith("dashboard/", StringComparison.OrdinalIgnoreCase)) name = name["dashboard/".Length..];
        if (name.Length == 0) name = IndexFile;
        if (name.Contains('/') || name.Contains('\\') || name.Contains("..", StringComparison.Ordinal)) return false;
        if (!ContentTypes.TryGetValue(Path.GetExtension(name), out string? type)) return false;
        Stream? stream = Source.GetManifestResourceStream(ResourcePrefix + name);
        if (stream is null) return false;
        content = stream;
        contentType = type;
        return true;
    }

    /// <summary>Maps GET / and GET /dashboard/{file} to the embedded dashboard files (404 for any other name).</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext context) => Serve(context, IndexFile));
        app.MapGet("/dashboard", (HttpContext context) => Serve(context, IndexFile));
        app.MapGet("/dashboard/{**file}", (HttpContext context, string? file) => Serve(context, file ?? IndexFile));
        return app;
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!TryOpen(file, out Stream content, out string contentType)) return Results.NotFound();
        // The page changes with the build, not while it runs: revalidate on every load, never serve a stale app.js.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return Results.Stream(content, contentType);
    }
}
