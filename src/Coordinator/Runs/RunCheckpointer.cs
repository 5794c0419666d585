using System.Text.Json;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// Writes the run's checkpoints from the coordinator's side: fetches a replica's state over the data plane
/// (so workers need not see the run folder) and saves it as a component checkpoint with the run state
/// (counters, curation lists, loss) in meta.json.
/// </summary>
/// <param name="beforeSave">Runs before each save (e.g. the ledger flushes and checkpoints its SQLite file).</param>
public sealed class RunCheckpointer(CheckpointStore store, byte[] secret, string manifestHash, int imageSize, ILogger logger,
    Func<Task>? beforeSave = null, RunPreviews? previews = null, RunValidation? validation = null) : IRunCheckpointer
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public CheckpointStore Store => store;

    public async Task<SavedCheckpoint> SaveAsync(string stateEndpoint, RunStateSnapshot state, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            StateSnapshot snapshot;
            ModelBundle bundle;
            try
            {
                snapshot = await DataPlaneEndpoint.FetchStateAsync(stateEndpoint, secret, TimeSpan.FromSeconds(120), cancellationToken, logger).ConfigureAwait(false);
                bundle = ModelBundle.Deserialize(snapshot.Payload.Span);
                if (bundle.Step != state.Step)
                    throw new InvalidDataException($"{stateEndpoint} served the state of step {bundle.Step}, not {state.Step}");
            }
            catch (Exception e) when (e is not OperationCanceledException and not FaceClusterException)
            {
                // Like a failed write (CheckpointStore.Save), the message says what stays the latest checkpoint.
                throw new FaceClusterException($"the state of step {state.Step} could not be fetched from {stateEndpoint}: {e.Message}{store.KeptNote()}", ExitCodes.UserError, e);
            }
            if (beforeSave != null) await beforeSave().ConfigureAwait(false);
            // One model of the checkpoint serves its validation figure (before the save: it ranks the checkpoint) and its preview.
            using var replica = previews == null && validation == null ? null : await Task.Run(() => LoadReplica(bundle), cancellationToken).ConfigureAwait(false);
            var figure = validation == null || replica == null ? null : await Task.Run(() => validation.Evaluate(replica.Model, bundle.Step), cancellationToken).ConfigureAwait(false);
            var meta = new CheckpointMeta
            {
                ModelKind = bundle.ModelKind,
                Preset = bundle.Preset,
                ImageSize = imageSize,
                Labels = bundle.Labels,
                Step = bundle.Step,
                Cycle = state.Cycle,
                ManifestHash = manifestHash,
                // The best checkpoint is ranked by the validation split when measured (curation lowers the training loss by removing faces).
                Metric = figure != null && double.IsFinite(figure.Metric) ? figure.Metric : double.IsFinite(state.MeanLoss) ? state.MeanLoss : null,
                Extra = new Dictionary<string, string>
                {
                    ["runState"] = JsonSerializer.Serialize(state),
                    ["parameterChecksum"] = state.Checksum,
                    ["metric"] = figure != null ? figure.Name : "train/loss",
                },
            };
            CheckpointInfo info;
            try
            {
                info = await Task.Run(() => store.Save(bundle, meta), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not FaceClusterException)
            {
                throw new FaceClusterException($"checkpoint step-{state.Step} could not be written to {store.Root}: {e.Message}{store.KeptNote()}", ExitCodes.UserError, e);
            }
            if (previews != null && replica != null) await Task.Run(() => previews.Write(replica.Model, bundle.Step), cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Checkpoint {Dir} written ({Bytes:N0} bytes of model state)", info.Directory, snapshot.Payload.Length);
            return new SavedCheckpoint(info.Directory, figure);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>The checkpoint's model for its preview and validation; null (logged) when it cannot be built: they are skipped, the checkpoint is not.</summary>
    private CheckpointReplica? LoadReplica(ModelBundle bundle)
    {
        try { return CheckpointReplica.Load(bundle); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("Neither preview nor validation of step {Step}: its model could not be loaded: {Message}", bundle.Step, e.Message);
            return null;
        }
    }

    /// <summary>The run state saved in a checkpoint's meta.json, if any.</summary>
    public static RunStateSnapshot? ReadRunState(CheckpointInfo checkpoint) =>
        checkpoint.Meta.Extra.TryGetValue("runState", out var json) ? JsonSerializer.Deserialize<RunStateSnapshot>(json) : null;
}
