using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Quality;
using FaceCluster.Coordinator.Runs;
using TorchSharp;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "unit")]
public sealed class RunValidationTests
{
    /// <summary>A quality model whose head ignores the image: P(bad) is sigmoid(bias) for every image.</summary>
    private static QualityFaceModel ConstantModel(float bias)
    {
        var model = new QualityFaceModel(ModelPreset.Tiny, QualityFaceModel.CanonicalLabels);
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name == "_head.weight" || name == "head.weight") p.zero_();
            if (name == "_head.bias" || name == "head.bias") p.fill_(bias);
        }
        return model;
    }

    [Fact]
    public void Good_bad_accuracy_is_the_share_of_images_on_the_side_of_their_folder()
    {
        int size = ModelPreset.Tiny.ImageSize, n = 10;
        var images = new LoadedImages(size, Enumerable.Range(0, n).Select(i => $"img{i}").ToArray(), new float[n * 3 * size * size], []);
        // Labels index CanonicalLabels: bad = 0, good = 1. Three bad images, seven good.
        long[] labels = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
        using var alwaysBad = ConstantModel(+10f);
        using var alwaysGood = ConstantModel(-10f);
        Assert.Equal(0, alwaysBad.BadIndex);
        Assert.Equal(0.3, RunValidation.Accuracy(alwaysBad, images, labels, chunk: 4), 6);
        Assert.Equal(0.7, RunValidation.Accuracy(alwaysGood, images, labels, chunk: 4), 6);
    }
}
