using System.Diagnostics;
using FaceCluster.Common.Errors;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Cli.Bench;

/// <summary>Times the steps after the warm-up, as the coordinator sees them complete.</summary>
internal sealed class StepClock(int warmup) : ICoordinatorObserver
{
    private readonly Stopwatch _watch = new();
    private long _from = -1, _to = -1;

    public void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond)
    {
        if (step == warmup) { _watch.Restart(); _from = step; }
        if (_from >= 0 && step > _from) { _to = step; _elapsed = _watch.Elapsed; }
    }

    private TimeSpan _elapsed;

    public double SamplesPerSecond(int batch) =>
        _to > _from && _from >= 0 ? (_to - _from) * batch / _elapsed.TotalSeconds
            : throw new FaceClusterException("the run finished before any timed step: raise --steps");

    public void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal) { }
    public void CheckpointSaved(long step, string directory) { }
    public void Message(string text) { }
    public void Finished(long step, string reason) { }
}
