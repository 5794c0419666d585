using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Models.Training;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// A checkpoint's model state loaded into a model on the coordinator's CPU, once per checkpoint, for whatever reads
/// it there (the preview, the validation figure).
/// </summary>
internal sealed class CheckpointReplica : IDisposable
{
    private readonly ReplicaTrainer _trainer;

    private CheckpointReplica(IFaceModel model, ReplicaTrainer trainer) => (Model, _trainer) = (model, trainer);

    public IFaceModel Model { get; }

    /// <summary>The model of <paramref name="bundle"/> (its kind, preset and labels; every weight from the bundle).</summary>
    public static CheckpointReplica Load(ModelBundle bundle)
    {
        var preset = ModelPreset.Parse(bundle.Preset);
        var model = FaceModelFactory.Create(FaceModelFactory.ParseKind(bundle.ModelKind), preset, bundle.Labels, 1);
        try
        {
            var trainer = new ReplicaTrainer(model, TorchSharp.torch.CPU, TrainerOptions.For(preset));
            trainer.ImportBundle(bundle, "checkpoint state");
            return new CheckpointReplica(model, trainer);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _trainer.Dispose();
        Model.Dispose();
    }
}
