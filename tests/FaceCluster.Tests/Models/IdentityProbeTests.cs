using FaceCluster.Tests.Support;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Autoencoder;
using FaceCluster.Common.Models.Training;
using TorchSharp;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
[Collection(TorchRngCollection.Name)]
public class IdentityProbeTests
{
    private static readonly string[] Identities = ["alice", "bob", "carol"];

    private static ReplicaTrainer NewTrainer(int seed = 7)
    {
        torch.manual_seed(seed);
        return new ReplicaTrainer(new FaceSwapAutoencoder(ModelPreset.Tiny, Identities), torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
    }

    private static double Mae(FaceSwapAutoencoder model, float[] image, int decoder)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.tensor(image, [1, 3, 32, 32]);
        float[] r = model.Decoder(decoder).call(model.Encoder.call(x)).data<float>().ToArray();
        double sum = 0;
        for (int k = 0; k < r.Length; k++) sum += Math.Abs(r[k] - image[k]);
        return sum / r.Length;
    }

    [Fact]
    public void The_probe_gives_each_face_its_own_decoders_loss_and_the_lowest_of_the_others_and_leaves_the_replica_alone()
    {
        using var trainer = NewTrainer();
        var batch = ModelTestData.RandomBatch(6, 32, 3, seed: 13);
        string before = trainer.ParameterChecksum();
        var probe = trainer.ProbeIdentity(batch);
        Assert.Equal(before, trainer.ParameterChecksum());
        Assert.True(trainer.Model.Root.training, "the probe puts the model back in training mode");
        var model = (FaceSwapAutoencoder)trainer.Model;
        for (int i = 0; i < batch.Count; i++)
        {
            // The probe reconstructs the image itself (no augmentation: the inputs are the targets).
            var image = batch.Inputs.AsSpan(i * batch.FloatsPerImage, batch.FloatsPerImage).ToArray();
            int own = (int)batch.Labels[i];
            var others = Enumerable.Range(0, Identities.Length).Where(d => d != own).Select(d => Mae(model, image, d)).ToArray();
            Assert.Equal(Mae(model, image, own), probe.Own[i], 5);
            Assert.Equal(others.Min(), probe.BestOther[i], 5);
        }
        // Each face's latent is the encoder's bottleneck vector of it, whatever its label.
        Assert.Equal(model.Preset.Latent, probe.LatentWidth);
        Assert.Equal(batch.Count * probe.LatentWidth, probe.Latents.Length);
        using (var scope = torch.NewDisposeScope())
        using (var noGrad = torch.no_grad())
        {
            model.eval();
            var (_, latent) = model.Encoder.Encode(torch.tensor(batch.Inputs, [batch.Count, 3, 32, 32]));
            var expected = latent.data<float>().ToArray();
            model.train();
            for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], probe.Latents[k], 5);
        }
    }

    [Fact]
    public void A_face_its_identitys_decoder_learned_has_a_negative_margin_and_the_same_face_under_another_identity_a_positive_one()
    {
        using var trainer = NewTrainer(seed: 3);
        // Two identities with different faces: alice's images are one pattern, bob's another (carol has none).
        var data = ModelTestData.RandomBatch(4, 32, 3, seed: 29);
        var labels = new long[] { 0, 0, 1, 1 };
        var inputs = (float[])data.Inputs.Clone();
        int stride = data.FloatsPerImage;
        Array.Copy(inputs, 0, inputs, stride, stride);      // alice: images 0 and 1 alike
        Array.Copy(inputs, 2 * stride, inputs, 3 * stride, stride); // bob: images 2 and 3 alike
        var train = new TrainBatch(4, 32, [0, 1, 2, 3], labels, inputs, inputs);
        for (int step = 0; step < 150; step++)
        {
            trainer.ComputeGradients(train, 4);
            trainer.ApplyUpdate();
        }
        var asLabelled = trainer.ProbeIdentity(new TrainBatch(2, 32, [0, 2], [0, 1], [.. inputs.AsSpan(0, stride), .. inputs.AsSpan(2 * stride, stride)], null));
        var swapped = trainer.ProbeIdentity(new TrainBatch(2, 32, [0, 2], [1, 0], [.. inputs.AsSpan(0, stride), .. inputs.AsSpan(2 * stride, stride)], null));
        for (int i = 0; i < 2; i++)
        {
            double margin = Math.Log(asLabelled.Own[i] / asLabelled.BestOther[i]);
            double wrong = Math.Log(swapped.Own[i] / swapped.BestOther[i]);
            Assert.True(margin < -0.1, $"face {i} under its own identity: margin {margin:F3}, expected clearly negative");
            Assert.True(wrong > 0.1, $"face {i} labelled as the other identity: margin {wrong:F3}, expected clearly positive");
        }
    }

    [Fact]
    public void Models_without_a_probe_say_so()
    {
        torch.manual_seed(1);
        using var trainer = new ReplicaTrainer(FaceModelFactory.Create(ModelKind.Quality, ModelPreset.Tiny, ["good", "bad"], 1), torch.CPU, TrainerOptions.For(ModelPreset.Tiny));
        Assert.False(trainer.CanProbeIdentity);
        var e = Assert.Throws<NotSupportedException>(() => trainer.ProbeIdentity(ModelTestData.RandomBatch(2, 32, 2, seed: 1, withTargets: false)));
        Assert.Contains("no identity probe", e.Message);
    }
}
