using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// Adds up the durations of the steps after the warm-up, as the reporting worker measured them. (The times at which
/// the reports reach the coordinator would do on an idle machine, but under load a few of them can arrive together.)
/// </summary>
internal sealed class StepClock(int warmup) : ICoordinatorObserver
{
    private double _milliseconds;
    private int _steps;

    public void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond, double stepMilliseconds)
    {
        if (step <= warmup) return;
        _milliseconds += stepMilliseconds;
        _steps++;
    }

    public double SamplesPerSecond(int batch) =>
        _steps > 0 && _milliseconds > 0 ? _steps * (double)batch / (_milliseconds / 1000.0)
            : throw new FaceClusterException("the run finished before any timed step: raise --steps");

    public void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal) { }
    public void CheckpointSaved(long step, string directory) { }
    public void Message(string text) { }
    public void Finished(long step, string reason) { }
}
