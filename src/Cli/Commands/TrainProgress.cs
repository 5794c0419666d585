using FaceCluster.Coordinator.Runs;
using System.Diagnostics;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Cli.Commands;

/// <summary>
/// Training progress for a person: step, loss, samples/s and ETA. A live line on a terminal; plain lines
/// (one every few seconds and one per cycle) when the output is redirected.
/// </summary>
public sealed class TrainProgress : ICoordinatorObserver
{
    private readonly TextWriter _out;
    private readonly bool _live;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private readonly TimeSpan _interval;
    private TimeSpan? _lastPrint;
    private long _firstStep = -1;
    private TimeSpan _firstTime;

    public TrainProgress(TextWriter output, bool live, TimeSpan? interval = null)
    {
        _out = output;
        _live = live;
        _interval = interval ?? TimeSpan.FromSeconds(live ? 0.25 : 5);
    }

    public static TrainProgress ForConsole(TextWriter output) =>
        new(output, ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && Spectre.Console.AnsiConsole.Profile.Capabilities.Ansi);

    public void StepCompleted(long step, long totalSteps, double meanLoss, double samplesPerSecond, double stepMilliseconds)
    {
        lock (_gate)
        {
            if (_firstStep < 0) { _firstStep = step; _firstTime = _clock.Elapsed; }
            var now = _clock.Elapsed;
            if (_lastPrint is { } last && now - last < _interval && step < totalSteps) return;
            _lastPrint = now;
            double stepsPerSecond = step > _firstStep ? (step - _firstStep) / (now - _firstTime).TotalSeconds : 0;
            string eta = stepsPerSecond > 0 ? Format(TimeSpan.FromSeconds((totalSteps - step) / stepsPerSecond)) : "?";
            string line = $"step {step,6}/{totalSteps}  loss {meanLoss,8:F5}  {samplesPerSecond,7:F1} samples/s  ETA {eta}";
            if (_live) _out.Write("\r\u001b[2K" + line);
            else _out.WriteLine(line);
        }
    }

    public void CycleClosed(long cycle, long step, int pruned, int refed, int quarantinedTotal) =>
        Line($"cycle {cycle} closed at step {step}: {pruned} pruned, {refed} re-fed, {quarantinedTotal} quarantined in total");

    public void CheckpointSaved(long step, string directory) => Line($"checkpoint {directory}");

    public void Validated(long step, ValidationFigure figure) => Line(figure.Name switch
    {
        RunValidation.GoodBadAccuracy => $"step {step}: good/bad accuracy {figure.Value:F4} on the validation split ({figure.Images} images)",
        _ when figure.HigherIsBetter => $"step {step}: verification accuracy {figure.Value:F4} on the validation split ({figure.Images} images)",
        _ => $"step {step}: validation loss {figure.Value:F4} ({figure.Images} images)",
    });

    public void Message(string text) => Line(text);

    public void Finished(long step, string reason) => Line($"finished at step {step}: {reason} ({Format(_clock.Elapsed)})");

    private void Line(string text)
    {
        lock (_gate)
        {
            if (_live) _out.Write("\r\u001b[2K");
            _out.WriteLine(text);
        }
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
}
