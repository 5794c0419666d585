using System.Net;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.Models.Checkpoints;
using FaceCluster.Common.Torch;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Coordinator.Runs;

/// <summary>
/// The coordinator's side of a run, prepared the same way by the embedded `train` and the multi-host `coordinator`:
/// the run folder (locked), the scanned face set, the cluster's secret, a data-plane endpoint that serves a
/// checkpoint's state to the workers, the checkpoint store and where the run starts. Disposing it releases the
/// endpoint and the folder.
/// </summary>
public sealed class PreparedRun : IDisposable
{
    private PreparedRun(TrainRunOptions options, RunFolder folder, ManifestLoadResult scan, byte[] secret, DataPlaneEndpoint plane, CheckpointStore store,
        ResumePoint? resume, List<string> warnings)
    {
        (Options, Folder, Scan, Secret, Plane, Store, Resume, Warnings) = (options, folder, scan, secret, plane, store, resume, warnings);
    }

    public TrainRunOptions Options { get; }
    public RunFolder Folder { get; }
    public ManifestLoadResult Scan { get; }
    public FaceManifest Manifest => Scan.Manifest;
    public byte[] Secret { get; }
    /// <summary>Serves the state a resumed or warm-started run starts from.</summary>
    public DataPlaneEndpoint Plane { get; }
    public CheckpointStore Store { get; }
    public ResumePoint? Resume { get; }
    /// <summary>What the operator should hear about the start (e.g. a damaged checkpoint skipped).</summary>
    public List<string> Warnings { get; }

    /// <summary>
    /// The run's newest checkpoint for the closing line: the one this process wrote last, else the newest valid one on
    /// disk (a resumed run that was already finished, or stopped before its first checkpoint, still has the earlier ones).
    /// </summary>
    public string? NewestCheckpoint(string? writtenHere) => writtenHere ?? Store.FindLatestValid(out _)?.Directory;

    /// <param name="bind">The address the coordinator's data-plane endpoint listens on.</param>
    /// <param name="advertisedHost">The name workers reach it by (default: the bound address).</param>
    /// <param name="beforeScan">Called with the locked run folder and the cluster secret just before the face set is
    /// scanned, and the scan's progress counter (the coordinator answers status requests with it meanwhile).</param>
    public static PreparedRun Open(TrainRunOptions options, IPAddress bind, string? advertisedHost, ILoggerFactory loggerFactory,
        Action<RunFolder, byte[], ScanProgress>? beforeScan = null)
    {
        TorchRuntime.EnsureLoaded();
        var folder = RunFolder.OpenExclusive(options.RunDir);
        DataPlaneEndpoint? plane = null;
        try
        {
            byte[] secret = folder.LoadOrCreateSecret(options.SecretFile);
            var counter = new ScanProgress();
            beforeScan?.Invoke(folder, secret, counter);
            var scan = RunSetup.ScanFaceSet(options, folder, loggerFactory.CreateLogger("facecluster.scan"), counter);
            plane = new DataPlaneEndpoint(bind, 0, secret, loggerFactory.CreateLogger("facecluster.dataplane.coordinator"), advertisedHost: advertisedHost);
            var store = new CheckpointStore(folder.Root, options.KeepCheckpoints, loggerFactory.CreateLogger("facecluster.checkpoints"));
            var warnings = new List<string>();
            var resume = RunSetup.StartPoint(options, folder, store, scan.Manifest, scan.Manifest.Identities.ToArray(), plane, warnings);
            return new PreparedRun(options, folder, scan, secret, plane, store, resume, warnings);
        }
        catch
        {
            plane?.Dispose();
            folder.Dispose();
            throw;
        }
    }

    /// <summary>The coordinator's settings for this run.</summary>
    public CoordinatorSettings Settings(int minWorkers, string httpBaseUrl, ICoordinatorObserver observer, ILoggerFactory loggerFactory) =>
        RunSetup.Settings(Options, Folder, Manifest, Secret, Store, Resume, minWorkers, httpBaseUrl, observer, loggerFactory);

    public void Dispose()
    {
        Plane.Dispose();
        Folder.Dispose();
    }
}
