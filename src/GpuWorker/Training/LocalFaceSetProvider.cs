using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Models;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>The face set a worker in the coordinator's process (or on a host that sees the same folder) reads directly.</summary>
public sealed class LocalFaceSetProvider : IFaceSetProvider
{
    private readonly FaceManifest _manifest;
    private readonly IFaceImageSource _source;
    private readonly DecodedImageCache? _cache;
    private readonly int _loaderThreads;
    private readonly ILogger _log;

    public LocalFaceSetProvider(FaceManifest manifest, IFaceImageSource source, DecodedImageCache? cache, int loaderThreads, ILogger logger)
    {
        _manifest = manifest;
        _source = source;
        _cache = cache;
        _loaderThreads = loaderThreads;
        _log = logger;
    }


    public Task<IFaceSetView> OpenAsync(RunSpec run, CancellationToken cancellationToken)
    {
        if (run.ManifestHash != _manifest.ManifestHash)
            throw new FaceClusterException($"this worker's manifest ({_manifest.ManifestHash[..12]}) is not the run's ({run.ManifestHash[..Math.Min(12, run.ManifestHash.Length)]})");
        var preset = ModelPreset.Parse(run.Preset);
        var kind = FaceModelFactory.ParseKind(run.ModelKind) == ModelKind.Autoencoder ? BatchKind.Reconstruction : BatchKind.Plain;
        var augment = run.Augment ? AugmentOptions.Default : AugmentOptions.None;
        IFaceSetView view = new ManifestFaceSetView(_manifest, run.Labels, _source, _cache, preset.ImageSize, kind, augment, _loaderThreads, _log);
        return Task.FromResult(view);
    }
}
