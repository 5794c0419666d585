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

    public void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond)
    {
        LastStep = step;
        foreach (var o in _observers) o.StepCompleted(step, totalSteps, meanLoss, samplesPerSecond);
    }

    public void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal)
    {
        foreach (var o in _observers) o.CycleClosed(cycle, step, pruned, refed, quarantinedTotal);
    }

    public void CheckpointSaved(long step, string directory)
    {
        LastCheckpoint = directory;
        foreach (var o in _observers) o.CheckpointSaved(step, directory);
    }

    public void Message(string text)
    {
        foreach (var o in _observers) o.Message(text);
    }

    public void Finished(long step, string reason)
    {
        foreach (var o in _observers) o.Finished(step, reason);
        _finished.TrySetResult((step, reason));
    }
}
