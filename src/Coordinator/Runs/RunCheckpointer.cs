using System.Text.Json;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.Errors;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Coordinator.ControlPlane;
using Microsoft.Extensions.Logging;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// Writes the run's checkpoints from the coordinator's side: fetches a replica's state over the data plane
/// (so workers need not see the run folder) and saves it as a component checkpoint with the run state
/// (counters, curation lists, loss) in meta.json.
/// </summary>
public sealed class RunCheckpointer : IRunCheckpointer
{
    private readonly CheckpointStore _store;
    private readonly byte[] _secret;
    private readonly string _manifestHash;
    private readonly int _imageSize;
    private readonly Func<Task>? _beforeSave;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly RunPreviews? _previews;

    /// <param name="beforeSave">Runs before each save (e.g. the ledger flushes and checkpoints its SQLite file).</param>
    public RunCheckpointer(CheckpointStore store, byte[] secret, string manifestHash, int imageSize, ILogger logger, Func<Task>? beforeSave = null, RunPreviews? previews = null)
    {
        _previews = previews;
        _store = store;
        _secret = secret;
        _manifestHash = manifestHash;
        _imageSize = imageSize;
        _beforeSave = beforeSave;
        _log = logger;
    }

    public CheckpointStore Store => _store;

    public async Task<string> SaveAsync(string stateEndpoint, RunStateSnapshot state, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            StateSnapshot snapshot;
            ModelBundle bundle;
            try
            {
                snapshot = await DataPlaneEndpoint.FetchStateAsync(stateEndpoint, _secret, TimeSpan.FromSeconds(120), cancellationToken, _log).ConfigureAwait(false);
                bundle = ModelBundle.Deserialize(snapshot.Payload.Span);
                if (bundle.Step != state.Step)
                    throw new InvalidDataException($"{stateEndpoint} served the state of step {bundle.Step}, not {state.Step}");
            }
            catch (Exception e) when (e is not OperationCanceledException and not FaceClusterException)
            {
                // Like a failed write (CheckpointStore.Save), the message says what stays the latest checkpoint.
                throw new FaceClusterException($"the state of step {state.Step} could not be fetched from {stateEndpoint}: {e.Message}{_store.KeptNote()}", ExitCodes.UserError, e);
            }
            if (_beforeSave != null) await _beforeSave().ConfigureAwait(false);
            var meta = new CheckpointMeta
            {
                ModelKind = bundle.ModelKind,
                Preset = bundle.Preset,
                ImageSize = _imageSize,
                Labels = bundle.Labels,
                Step = bundle.Step,
                Cycle = state.Cycle,
                ManifestHash = _manifestHash,
                Metric = double.IsFinite(state.MeanLoss) ? state.MeanLoss : null,
                Extra = new Dictionary<string, string>
                {
                    ["runState"] = JsonSerializer.Serialize(state),
                    ["parameterChecksum"] = state.Checksum,
                },
            };
            CheckpointInfo info;
            try
            {
                info = await Task.Run(() => _store.Save(bundle, meta), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not FaceClusterException)
            {
                throw new FaceClusterException($"checkpoint step-{state.Step} could not be written to {_store.Root}: {e.Message}{_store.KeptNote()}", ExitCodes.UserError, e);
            }
            if (_previews != null) await Task.Run(() => _previews.Write(bundle), cancellationToken).ConfigureAwait(false);
            _log.LogInformation("Checkpoint {Dir} written ({Bytes:N0} bytes of model state)", info.Directory, snapshot.Payload.Length);
            return info.Directory;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>The run state saved in a checkpoint's meta.json, if any.</summary>
    public static RunStateSnapshot? ReadRunState(CheckpointInfo checkpoint) =>
        checkpoint.Meta.Extra.TryGetValue("runState", out var json) ? JsonSerializer.Deserialize<RunStateSnapshot>(json) : null;
}
