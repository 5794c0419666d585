using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Models.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>A worker's view of the run's face set: the manifest, the labels, and batches through the prefetch pipeline.</summary>
public sealed class ManifestFaceSetView : IFaceSetView
{
    private readonly FaceManifest _manifest;
    private readonly Dictionary<int, long> _labelOf;
    private readonly IFaceImageSource _source;
    private readonly DecodedImageCache? _cache;
    private readonly int _imageSize;
    private readonly BatchKind _kind;
    private readonly AugmentOptions _augment;
    private readonly int _loaderThreads;
    private readonly ILogger _log;

    public ManifestFaceSetView(FaceManifest manifest, IReadOnlyList<string> labels, IFaceImageSource source, DecodedImageCache? cache,
        int imageSize, BatchKind kind, AugmentOptions augment, int loaderThreads, ILogger logger)
    {
        _manifest = manifest;
        var index = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => (long)p.i, StringComparer.Ordinal);
        _labelOf = new Dictionary<int, long>(manifest.Samples.Count);
        foreach (var s in manifest.Samples)
            if (index.TryGetValue(s.Identity, out long label)) _labelOf[s.Id] = label;
        TrainingIds = manifest.TrainingSamples.Where(s => _labelOf.ContainsKey(s.Id)).Select(s => s.Id).ToArray();
        _source = source;
        _cache = cache;
        _imageSize = imageSize;
        _kind = kind;
        _augment = augment;
        _loaderThreads = loaderThreads;
        _log = logger;
    }

    public IReadOnlyList<int> TrainingIds { get; }

    public long LabelOf(int sampleId) => _labelOf[sampleId];

    public ISegmentBatches CreateBatches(int[][] idsPerStep, ulong seed) => new Batches(this, idsPerStep, seed, _kind, _augment);

    public ISegmentBatches CreateProbeBatches(int[][] idsPerBatch) => new Batches(this, idsPerBatch, 0, BatchKind.Plain, AugmentOptions.None);

    private sealed class Batches : ISegmentBatches
    {
        private readonly ManifestFaceSetView _view;
        private readonly BatchPipeline _pipeline;
        private readonly int _expected;
        private int _taken;

        public Batches(ManifestFaceSetView view, int[][] idsPerStep, ulong seed, BatchKind kind, AugmentOptions augment)
        {
            _view = view;
            _expected = idsPerStep.Length;
            _pipeline = new BatchPipeline(view._source, view._manifest.Samples, view._cache, view._imageSize, kind, augment,
                unchecked((long)seed), k => k < idsPerStep.Length ? idsPerStep[k] : null, view._loaderThreads, depth: 4,
                onBadSample: bad => view._log.LogWarning("Sample {Id} could not be loaded ({Reason}: {Detail}); another sample of the batch took its place",
                    bad.SampleId, bad.Reason, bad.Detail),
                logger: view._log);
        }

        public TrainBatch Take(CancellationToken cancellationToken)
        {
            var host = _pipeline.Take(cancellationToken)
                ?? throw new IOException($"the loader ran out of batches after {_taken} of {_expected}: every sample of a batch failed to load");
            _taken++;
            var labels = new long[host.Count];
            for (int i = 0; i < host.Count; i++) labels[i] = _view._labelOf[host.SampleIds[i]];
            return new TrainBatch(host.Count, host.ImageSize, host.SampleIds, labels, host.Inputs, host.Targets);
        }

        public void Recycle(TrainBatch batch) =>
            _pipeline.Recycle(new HostBatch(batch.Count, batch.ImageSize, batch.SampleIds, batch.Inputs, ReferenceEquals(batch.Targets, batch.Inputs) ? null : batch.Targets));

        public void Dispose() => _pipeline.Dispose();
    }
}
