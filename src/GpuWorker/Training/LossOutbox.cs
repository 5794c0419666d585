using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.GpuWorker.Training;

/// <summary>
/// The losses of the steps a worker completed that no ledger has confirmed on disk yet. They outlive a cluster
/// session (the engine owns them), so a worker sends them again to a coordinator restarted after a crash, and no
/// loss record is lost with the old coordinator's memory. Confirmations (<see cref="LossesDurable"/>) forget them.
/// Bounded: past <see cref="Capacity"/> reports the oldest are forgotten (counted in <see cref="Forgotten"/>).
/// </summary>
public sealed class LossOutbox
{
    /// <summary>Reports kept at most (a coordinator without a ledger never confirms).</summary>
    public const int Capacity = 100_000;

    private readonly Queue<StepCompleted> _pending = new();
    private readonly object _gate = new();

    /// <summary>Reports dropped because the outbox was full.</summary>
    public long Forgotten { get; private set; }

    public int Count
    {
        get { lock (_gate) return _pending.Count; }
    }

    public void Add(StepCompleted step)
    {
        lock (_gate)
        {
            _pending.Enqueue(step);
            if (_pending.Count > Capacity)
            {
                _pending.Dequeue();
                Forgotten++;
            }
        }
    }

    /// <summary>The ledger holds every report of this worker through <paramref name="throughStep"/>.</summary>
    public void Confirm(long throughStep)
    {
        lock (_gate)
            while (_pending.Count > 0 && _pending.Peek().Step <= throughStep) _pending.Dequeue();
    }

    /// <summary>The unconfirmed reports, oldest first.</summary>
    public StepCompleted[] Pending()
    {
        lock (_gate) return _pending.ToArray();
    }
}
