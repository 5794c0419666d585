using System.Collections.Concurrent;
using FaceCluster.Common.FaceSet.Texture;
using FaceCluster.Common.IO;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// The texture check of a run's training samples, done once when the run starts: each image's light-normalised
/// local-texture histograms (<see cref="TextureDescriptor"/>) and how far they stand from its identity's other faces
/// (<see cref="TextureOutliers"/>). It reads every training image once (in parallel) and takes about a millisecond an
/// image; it needs no model, so memorisation cannot hide what it sees. The ledger's policy prunes the far outliers
/// (docs/CURATION.md). An image that cannot be read or decoded is not scored (the loader reports it when it needs it).
/// </summary>
public static class RunTextureCheck
{
    /// <summary>Each scored training sample's z and ratio; null when the check is off.</summary>
    public static IReadOnlyDictionary<int, TextureOutliers.Score>? Scores(FaceManifest manifest, bool enabled, int minReference, ILogger log)
    {
        if (!enabled) return null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var samples = manifest.TrainingSamples.ToList();
        var identities = manifest.Identities.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var descriptors = new ConcurrentDictionary<int, float[]>();
        Parallel.ForEach(samples, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, sample =>
        {
            try
            {
                var descriptor = TextureDescriptor.Of(RegularFiles.ReadImage(Path.Combine(manifest.DataRoot, sample.RelativePath.Replace('/', Path.DirectorySeparatorChar))));
                if (descriptor is null) log.LogDebug("texture check: {Path} does not decode; not scored", sample.RelativePath);
                else descriptors[sample.Id] = descriptor;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FaceClusterException or OpenCvSharp.OpenCVException)
            {
                log.LogDebug("texture check: {Path} not read ({Reason}); not scored", sample.RelativePath, e.Message);
            }
        });
        var faces = samples.Where(s => descriptors.ContainsKey(s.Id)).Select(s => new TextureOutliers.Face(s.Id, identities[s.Identity], descriptors[s.Id])).ToList();
        var scores = TextureOutliers.Scores(faces, minReference);
        log.LogInformation("texture check: {Scored} of {Samples} training images scored in {Seconds:0.0} s", scores.Count, samples.Count, clock.Elapsed.TotalSeconds);
        return scores;
    }
}
