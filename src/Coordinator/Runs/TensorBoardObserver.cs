using FaceCluster.Common.Telemetry.TensorBoard;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// Writes the run's progress as TensorBoard events into RUNDIR/tb (`tensorboard --logdir RUNDIR`): per step the mean
/// training loss, samples/s and step time; per cycle what curation pruned and re-fed and how many faces are
/// quarantined; per checkpoint the preview image (RUNDIR/previews/step-N.png). A log that cannot be written (a full
/// disk) is given up with one warning: it never stops the run.
/// </summary>
public sealed class TensorBoardObserver : ICoordinatorObserver, IDisposable
{
    /// <summary>RUNDIR/tb.</summary>
    public const string FolderName = "tb";

    private readonly string _runDir;
    private readonly ILogger _log;
    private TensorBoardLog? _events;

    public TensorBoardObserver(string runDir, ILogger log)
    {
        _runDir = runDir;
        _log = log;
        Guard(() => _events = new TensorBoardLog(Path.Combine(runDir, FolderName)));
    }

    /// <summary>The event file, or null when it could not be created.</summary>
    public string? EventFile => _events?.Path;

    public void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond, double stepMilliseconds) => Guard(() =>
    {
        if (double.IsFinite(meanLoss)) _events?.Scalar("train/loss", step, meanLoss);
        if (double.IsFinite(samplesPerSecond)) _events?.Scalar("train/samples_per_second", step, samplesPerSecond);
        if (double.IsFinite(stepMilliseconds)) _events?.Scalar("train/step_milliseconds", step, stepMilliseconds);
    });

    public void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal) => Guard(() =>
    {
        _events?.Scalar("curation/pruned", step, pruned);
        _events?.Scalar("curation/refed", step, refed);
        _events?.Scalar("curation/quarantined", step, quarantinedTotal);
    });

    public void CheckpointSaved(long step, string directory) => Guard(() =>
    {
        string preview = Path.Combine(_runDir, RunPreviews.FolderName, $"step-{step}.png");
        if (_events != null && File.Exists(preview)) _events.Image("preview", step, File.ReadAllBytes(preview));
    });

    public void Validated(long step, ValidationFigure figure) => Guard(() => _events?.Scalar(figure.Name, step, figure.Value));

    public void Message(string text) { }

    public void Finished(long step, string reason) { }

    private void Guard(Action write)
    {
        try { write(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            _log.LogWarning("TensorBoard events are no longer written to {Folder}: {Message}", Path.Combine(_runDir, FolderName), e.Message);
            _events?.Dispose();
            _events = null;
        }
    }

    public void Dispose() => _events?.Dispose();
}
