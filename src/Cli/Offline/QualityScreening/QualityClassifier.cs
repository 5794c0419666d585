using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Quality;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Randomness;
using TorchSharp;

namespace FaceCluster.Cli.Offline.QualityScreening;

/// <summary>
/// A <see cref="QualityFaceModel"/> trained in this process on one replica (<see cref="ReplicaTrainer"/>, the same
/// step the cluster runs, with the local batch as the global batch): what `facecluster curate` trains each round.
/// Batches are balanced: each holds half good and half bad images drawn at random (with replacement), so a small
/// bad set is not drowned by the good one.
/// </summary>
public sealed class QualityClassifier : IDisposable
{
    private readonly QualityFaceModel _model;
    private readonly ReplicaTrainer _trainer;

    private QualityClassifier(QualityFaceModel model, ReplicaTrainer trainer)
    {
        _model = model;
        _trainer = trainer;
    }

    public QualityFaceModel Model => _model;

    /// <summary>Mean per-sample loss of the last 10% of the steps.</summary>
    public double FinalLoss { get; private set; } = double.NaN;

    /// <summary>Trains a fresh classifier on the images at <paramref name="rows"/> of <paramref name="images"/>, labelled by <paramref name="bad"/>.</summary>
    public static QualityClassifier Train(ModelPreset preset, LoadedImages images, IReadOnlyList<int> rows, IReadOnlyList<bool> bad, QualityTrainingOptions options)
    {
        options.Validate();
        if (rows.Count != bad.Count) throw new ArgumentException("one label per row", nameof(bad));
        if (images.ImageSize != preset.ImageSize) throw new ArgumentException($"images are {images.ImageSize}px; the preset needs {preset.ImageSize}px", nameof(images));
        var badRows = rows.Where((_, i) => bad[i]).ToArray();
        var goodRows = rows.Where((_, i) => !bad[i]).ToArray();
        if (badRows.Length == 0 || goodRows.Length == 0)
            throw new FaceClusterException($"the quality classifier needs at least one good and one bad image to train on, got {goodRows.Length} good and {badRows.Length} bad");
        TorchRuntime.EnsureLoaded();
        var model = (QualityFaceModel)FaceModelFactory.Create(ModelKind.Quality, preset, QualityFaceModel.CanonicalLabels, options.Seed);
        var trainer = new ReplicaTrainer(model, torch.CPU, new TrainerOptions(options.LearningRate, Beta1: 0.9));
        var classifier = new QualityClassifier(model, trainer);
        try
        {
            var rng = DeterministicRng.Derive(options.Seed, 0x9A11);
            int per = images.FloatsPerImage, n = options.Batch;
            var inputs = new float[n * per];
            var labels = new long[n];
            var ids = new int[n];
            long badLabel = model.BadIndex, goodLabel = 1 - model.BadIndex;
            double tail = 0; int tailCount = 0, tailFrom = options.Steps - Math.Max(1, options.Steps / 10);
            for (int step = 0; step < options.Steps; step++)
            {
                for (int i = 0; i < n; i++)
                {
                    bool isBad = i % 2 == 0;
                    var pool = isBad ? badRows : goodRows;
                    int row = pool[rng.NextInt(pool.Length)];
                    Augment(images.Pixels.AsSpan(row * per, per), inputs.AsSpan(i * per, per), images.ImageSize, rng);
                    labels[i] = isBad ? badLabel : goodLabel;
                    ids[i] = row;
                }
                var result = trainer.ComputeGradients(new TrainBatch(n, images.ImageSize, ids, labels, inputs, null), n);
                trainer.ApplyUpdate();
                if (step >= tailFrom) { tail += result.MeanLoss; tailCount++; }
            }
            classifier.FinalLoss = tail / Math.Max(1, tailCount);
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Augmentation against overfitting a handful of seed labels: a random horizontal flip, a shift of up to
    /// ±<see cref="MaxShift"/> pixels (edges repeated), a per-channel gain in [0.75, 1.25] (so that an identity's
    /// colouring is not a shortcut to its label), one in five images made grey, then brightness × [0.8, 1.2] +
    /// [-0.08, 0.08], clamped to [0, 1].
    /// </summary>
    public static void Augment(ReadOnlySpan<float> source, Span<float> target, int size, DeterministicRng rng)
    {
        bool flip = rng.NextDouble() < 0.5;
        int dx = rng.NextInt(2 * MaxShift + 1) - MaxShift, dy = rng.NextInt(2 * MaxShift + 1) - MaxShift;
        float gain = (float)(0.8 + 0.4 * rng.NextDouble()), bias = (float)(0.16 * rng.NextDouble() - 0.08);
        bool grey = rng.NextDouble() < 0.2;
        int plane = size * size;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
            {
                var from = source.Slice((c * size + Math.Clamp(y - dy, 0, size - 1)) * size, size);
                var to = target.Slice((c * size + y) * size, size);
                for (int x = 0; x < size; x++)
                {
                    int sx = Math.Clamp(x - dx, 0, size - 1);
                    to[x] = from[flip ? size - 1 - sx : sx];
                }
            }
        var all = target[..(3 * plane)];
        if (grey)
        {
            var b = all[..plane]; var g = all.Slice(plane, plane); var r = all.Slice(2 * plane, plane);
            System.Numerics.Tensors.TensorPrimitives.Add(b, g, b);
            System.Numerics.Tensors.TensorPrimitives.Add(b, r, b);
            System.Numerics.Tensors.TensorPrimitives.Multiply(b, 1f / 3, b);
            b.CopyTo(g);
            b.CopyTo(r);
        }
        else
            for (int c = 0; c < 3; c++)
            {
                var channel = all.Slice(c * plane, plane);
                System.Numerics.Tensors.TensorPrimitives.Multiply(channel, (float)(0.75 + 0.5 * rng.NextDouble()), channel);
            }
        System.Numerics.Tensors.TensorPrimitives.Multiply(all, gain, all);
        System.Numerics.Tensors.TensorPrimitives.Add(all, bias, all);
        System.Numerics.Tensors.TensorPrimitives.Clamp(all, 0f, 1f, all);
    }

    /// <summary>Largest shift of <see cref="Augment"/>, in pixels.</summary>
    public const int MaxShift = 2;

    /// <summary>P(bad) of every image of <paramref name="images"/>.</summary>
    public float[] Score(LoadedImages images, int chunk = 128)
    {
        var result = new float[images.Count];
        for (int start = 0; start < images.Count; start += chunk)
        {
            int n = Math.Min(chunk, images.Count - start);
            using var scope = torch.NewDisposeScope();
            var x = torch.tensor(images.Slice(start, n).ToArray(), [n, 3, images.ImageSize, images.ImageSize]);
            _model.PredictBad(x).CopyTo(result, start);
        }
        return result;
    }

    /// <summary>P(bad) of the images at <paramref name="rows"/>.</summary>
    public float[] Score(LoadedImages images, IReadOnlyList<int> rows)
    {
        int per = images.FloatsPerImage;
        var pixels = new float[rows.Count * per];
        for (int i = 0; i < rows.Count; i++) images.Pixels.AsSpan(rows[i] * per, per).CopyTo(pixels.AsSpan(i * per, per));
        return Score(new LoadedImages(images.ImageSize, rows.Select(r => images.Paths[r]).ToArray(), pixels, []));
    }

    /// <summary>Saves the classifier as a checkpoint of <paramref name="runDir"/> (the layout `train` writes).</summary>
    public CheckpointInfo Save(string runDir, string manifestHash = "")
    {
        var store = new CheckpointStore(runDir, keepLast: 1);
        return store.Save(_trainer, new CheckpointMeta
        {
            ModelKind = _model.Kind.ToString(), Preset = _model.Preset.Name, ImageSize = _model.Preset.ImageSize,
            Labels = _model.Labels.ToArray(), Step = _trainer.Step, Cycle = 0, ManifestHash = manifestHash,
            Metric = double.IsFinite(FinalLoss) ? FinalLoss : null,
        });
    }

    public void Dispose()
    {
        _trainer.Dispose();
        _model.Dispose();
    }
}
