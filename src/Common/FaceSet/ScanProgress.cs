using System.Diagnostics;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// How far a face-set scan has come, for whoever asks while it runs (the coordinator's /api/status answers with it
/// before the run starts). The scan writes it (<see cref="FaceSetScanner"/>); readers take a <see cref="Snapshot"/>.
/// Thread-safe: files are examined in parallel.
/// </summary>
public sealed class ScanProgress
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _files = -1;
    private int _reused;
    private int _toExamine;
    private int _examined;
    private int _finished;

    /// <summary>The listing is done: <paramref name="files"/> image files, of which <paramref name="toExamine"/> must be read (the rest are reused).</summary>
    internal void Listed(int files, int toExamine)
    {
        Volatile.Write(ref _toExamine, toExamine);
        Volatile.Write(ref _reused, files - toExamine);
        Volatile.Write(ref _files, files);
    }

    internal void FileExamined() => Interlocked.Increment(ref _examined);

    /// <summary>The scan is over (the manifest is written).</summary>
    public void Finished() => Volatile.Write(ref _finished, 1);

    public ScanProgressSnapshot Snapshot()
    {
        int files = Volatile.Read(ref _files);
        string phase = Volatile.Read(ref _finished) == 1 ? "done" : files < 0 ? "listing" : "examining";
        return new ScanProgressSnapshot(phase, Math.Max(files, 0), Volatile.Read(ref _reused), Volatile.Read(ref _toExamine),
            Volatile.Read(ref _examined), Math.Round(_clock.Elapsed.TotalSeconds, 1));
    }
}

/// <summary>A scan's progress at one moment.</summary>
/// <param name="Phase">listing (walking the folder), examining (reading the files that changed or are new), done.</param>
/// <param name="Files">Image files found (0 while listing).</param>
/// <param name="Reused">Files the previous manifest (or a cut-off scan's partial one) already describes.</param>
/// <param name="ToExamine">Files that must be read.</param>
/// <param name="Examined">Of those, read so far.</param>
/// <param name="Seconds">Since the scan started.</param>
public sealed record ScanProgressSnapshot(string Phase, int Files, int Reused, int ToExamine, int Examined, double Seconds);
