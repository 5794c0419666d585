using FaceCluster.Common.IO;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Previews;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// Writes RUNDIR/previews/step-N.png (and latest.png) at every checkpoint of an autoencoder run: a few faces of up
/// to four identities, each with its reconstruction and a swap. A preview that cannot be drawn is logged and
/// skipped; it never fails the checkpoint.
/// </summary>
public sealed class RunPreviews
{
    /// <summary>RUNDIR/previews.</summary>
    public const string FolderName = "previews";

    private readonly string _directory;
    private readonly IReadOnlyList<PreviewFace> _faces;
    private readonly ILogger _log;

    private RunPreviews(string directory, IReadOnlyList<PreviewFace> faces, ILogger log)
    {
        _directory = directory;
        _faces = faces;
        _log = log;
    }

    /// <summary>Null when the model has no previews (only the autoencoder has) or no face can be read.</summary>
    public static RunPreviews? For(string runDir, FaceManifest manifest, ModelKind kind, ModelPreset preset, ILogger log, int identities = 4, int perIdentity = 2)
    {
        if (kind != ModelKind.Autoencoder) return null;
        var labels = manifest.Identities.ToList();
        var faces = new List<PreviewFace>();
        foreach (var group in manifest.TrainingSamples.GroupBy(s => s.Identity).OrderBy(g => g.Key, StringComparer.Ordinal).Take(identities))
        {
            foreach (var sample in group.OrderBy(s => s.Id).Take(perIdentity * 3))
            {
                if (faces.Count(f => f.Identity == labels.IndexOf(group.Key)) >= perIdentity) break;
                var planes = PreviewGrid.LoadPlanes(Path.Combine(manifest.DataRoot, sample.RelativePath), preset.ImageSize);
                if (planes != null) faces.Add(new PreviewFace(planes, labels.IndexOf(group.Key)));
            }
        }
        return faces.Count == 0 ? null : new RunPreviews(Path.Combine(runDir, FolderName), faces, log);
    }

    /// <summary>Draws the preview of the checkpoint of <paramref name="step"/> (its model loaded); returns the file written, or null when it failed.</summary>
    public string? Write(IFaceModel checkpoint, long step)
    {
        try
        {
            byte[] png = PreviewGrid.RenderPng((FaceSwapAutoencoder)checkpoint, _faces);
            Directory.CreateDirectory(_directory);
            string file = Path.Combine(_directory, $"step-{step}.png");
            DurableFiles.WriteAllBytes(file, png);
            DurableFiles.WriteAllBytes(Path.Combine(_directory, "latest.png"), png);
            return file;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogWarning("Preview of step {Step} not written: {Message}", step, e.Message);
            return null;
        }
    }
}
