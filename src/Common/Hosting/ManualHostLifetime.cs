using Microsoft.Extensions.Hosting;

namespace FaceCluster.Common.Hosting;

/// <summary>
/// A host lifetime that leaves Ctrl-C and SIGTERM to the command (the default console lifetime would stop the actor
/// system at once, before a worker could finish its step and leave, or the coordinator could say where it stopped).
/// </summary>
public sealed class ManualHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
