using System.Runtime.InteropServices;

namespace FaceCluster.Cli;

/// <summary>Graceful stop of the long-running cluster commands: the first SIGINT (Ctrl-C) or SIGTERM cancels the token; a second one ends the process as usual.</summary>
internal sealed class CliSignals : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public CliSignals()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                if (_cts.IsCancellationRequested) return;
                context.Cancel = true;
                _cts.Cancel();
            }));
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
