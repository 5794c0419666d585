using FaceCluster.Tests.Support;
using FaceCluster.Cli.Offline.QualityScreening;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Quality;
using TorchSharp;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class QualityModelTests
{
    [Fact]
    public void Per_sample_loss_is_binary_cross_entropy_with_bad_as_the_positive_class()
    {
        using var model = (QualityFaceModel)FaceModelFactory.Create(ModelKind.Quality, ModelPreset.Tiny, ["bad", "good"], 1);
        using var scope = torch.NewDisposeScope();
        var x = torch.rand(4, 3, 32, 32);
        long[] labels = [0, 1, 0, 1]; // bad, good, bad, good
        float[] losses = model.PerSampleLoss(x, null, labels).detach().data<float>().ToArray();
        float[] p = model.PredictBad(x);
        for (int i = 0; i < 4; i++)
        {
            double expected = labels[i] == model.BadIndex ? -Math.Log(p[i]) : -Math.Log(1 - p[i]);
            Assert.Equal(expected, losses[i], 4);
        }
        Assert.Equal(BatchComposition.Shuffled, model.BatchComposition);
    }

    [Fact]
    public void The_quality_model_needs_exactly_a_good_and_a_bad_label()
    {
        var error = Assert.Throws<FaceClusterException>(() => FaceModelFactory.Create(ModelKind.Quality, ModelPreset.Tiny, ["alice", "bob"], 1));
        Assert.Contains("'good' and 'bad'", error.Message);
        Assert.Throws<FaceClusterException>(() => FaceModelFactory.Create(ModelKind.Quality, ModelPreset.Tiny, ["bad", "good", "meh"], 1));
        using var reversed = (QualityFaceModel)FaceModelFactory.Create(ModelKind.Quality, ModelPreset.Tiny, ["good", "bad"], 1);
        Assert.Equal(1, reversed.BadIndex);
    }

    [Fact]
    public void The_classifier_learns_a_trivially_separable_toy_set()
    {
        var images = QualityTestImages.InMemory(12, out var bad);
        var rows = Enumerable.Range(0, images.Count).ToArray();
        using var classifier = QualityClassifier.Train(ModelPreset.Tiny, images, rows, bad, new QualityTrainingOptions(Steps: 30, Batch: 8, LearningRate: 2e-3, Seed: 3));
        var p = classifier.Score(images);
        for (int i = 0; i < images.Count; i++)
            Assert.True(bad[i] ? p[i] > 0.5 : p[i] < 0.5, $"image {i} (bad: {bad[i]}) scored P(bad) = {p[i]:F3}");
        Assert.True(classifier.FinalLoss < 0.3, $"final loss {classifier.FinalLoss}");
    }

    [Fact]
    public void Training_without_both_classes_is_a_clear_error()
    {
        var images = QualityTestImages.InMemory(3, out _);
        var error = Assert.Throws<FaceClusterException>(() =>
            QualityClassifier.Train(ModelPreset.Tiny, images, [0, 2, 4], [false, false, false], new QualityTrainingOptions(Steps: 1, Batch: 2)));
        Assert.Contains("0 bad", error.Message);
    }

    [Fact]
    public void Augmentation_keeps_pixels_in_range_and_the_image_recognisable()
    {
        var images = QualityTestImages.InMemory(1, out _);
        var target = new float[images.FloatsPerImage];
        var rng = new FaceCluster.Common.Randomness.DeterministicRng(1);
        QualityClassifier.Augment(images.Pixels.AsSpan(0, images.FloatsPerImage), target, 32, rng);
        Assert.All(target, v => Assert.InRange(v, 0f, 1f));
        Assert.InRange(target.Average(), images.Pixels.Take(images.FloatsPerImage).Average() - 0.25, images.Pixels.Take(images.FloatsPerImage).Average() + 0.25);
    }
}
