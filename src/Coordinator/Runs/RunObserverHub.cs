using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>Fans the coordinator's notifications out to the display, and completes when the run finishes.</summary>
public sealed class RunObserverHub : ICoordinatorObserver
{
    private readonly ICoordinatorObserver[] _observers;
    private readonly TaskCompletionSource<(long Step, string Reason)> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RunObserverHub(params ICoordinatorObserver[] observers) => _observers = observers;

    public Task<(long Step, string Reason)> Completion => _finished.Task;
    public string? LastCheckpoint { get; private set; }
    public long LastStep { get; private set; }

    public void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond, double stepMilliseconds)
    {
        LastStep = step;
        Each(o => o.StepCompleted(step, totalSteps, meanLoss, samplesPerSecond, stepMilliseconds));
    }

    public void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal)
    {
        Each(o => o.CycleClosed(cycle, step, pruned, refed, quarantinedTotal));
    }

    public void CheckpointSaved(long step, string directory)
    {
        LastCheckpoint = directory;
        Each(o => o.CheckpointSaved(step, directory));
    }

    public void Validated(long step, ValidationFigure figure) => Each(o => o.Validated(step, figure));

    public void Message(string text)
    {
        Each(o => o.Message(text));
    }

    public void Finished(long step, string reason)
    {
        Each(o => o.Finished(step, reason));
        _finished.TrySetResult((step, reason));
    }

    /// <summary>A display that throws must not take the coordinator down with it: the run matters more than its progress line.</summary>
    private void Each(Action<ICoordinatorObserver> notify)
    {
        foreach (var o in _observers)
        {
            try { notify(o); }
            catch (Exception) { /* the display's problem, not the run's */ }
        }
    }
}
