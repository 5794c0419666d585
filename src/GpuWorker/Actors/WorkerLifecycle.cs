namespace FaceCluster.GpuWorker.Actors;

/// <summary>
/// What the worker actors of one node tell the process that hosts them: when the coordinator accepts one, and how
/// the run ended for them (the first outcome wins). Thread-safe.
/// </summary>
public sealed class WorkerLifecycle
{
    private readonly TaskCompletionSource<WorkerOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _acceptances;

    public Task<WorkerOutcome> Outcome => _outcome.Task;

    /// <summary>Registrations the coordinator accepted so far.</summary>
    public long Acceptances => Interlocked.Read(ref _acceptances);

    public void Accepted() => Interlocked.Increment(ref _acceptances);

    public void Complete(WorkerOutcome outcome) => _outcome.TrySetResult(outcome);
}
