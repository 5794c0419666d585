using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FaceCluster.Coordinator.Http;

/// <summary>
/// The run's previews (RUNDIR/previews/step-N.png, one per checkpoint of an autoencoder run) over HTTP, for the
/// dashboard's preview panel: GET /api/previews lists the steps, GET /api/previews/{step} serves one. Only files named
/// by a step number are served; the routes need the same credentials as every other API route.
/// </summary>
public static class PreviewRoutes
{
    public static IEndpointRouteBuilder MapPreviews(this IEndpointRouteBuilder app, string? previewsDir)
    {
        app.MapGet("/api/previews", () => Results.Json(new { steps = Steps(previewsDir) }, CoordinatorHttpServer.Json));
        app.MapGet("/api/previews/{step:long}", (long step) =>
        {
            string? file = previewsDir == null ? null : Path.Combine(previewsDir, $"step-{step.ToString(CultureInfo.InvariantCulture)}.png");
            return file != null && File.Exists(file)
                ? Results.File(file, "image/png")
                : Results.Json(new { message = $"no preview of step {step}" }, CoordinatorHttpServer.Json, statusCode: StatusCodes.Status404NotFound);
        });
        return app;
    }

    /// <summary>The steps that have a preview, oldest first.</summary>
    public static long[] Steps(string? previewsDir)
    {
        if (previewsDir == null || !Directory.Exists(previewsDir)) return [];
        return Directory.EnumerateFiles(previewsDir, "step-*.png")
            .Select(f => Path.GetFileNameWithoutExtension(f)["step-".Length..])
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long step) ? step : -1)
            .Where(s => s >= 0).Order().ToArray();
    }
}
