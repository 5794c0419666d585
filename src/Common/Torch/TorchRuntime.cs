using System.Runtime.InteropServices;
using TorchSharp;

namespace FaceCluster.Common.Torch;

/// <summary>
/// One place that touches libtorch first: loads it with a clear message when it cannot be loaded,
/// turns NNPACK off where it cannot initialise (<see cref="NnpackSwitch"/>), parses device names, and sets thread counts.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _loaded;

    /// <summary>Loads libtorch (idempotent). Throws a <see cref="FaceClusterException"/> that says what to do when it cannot.</summary>
    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (Gate)
        {
            if (_loaded) return;
            try
            {
                using var probe = torch.zeros(1);
                NnpackSwitch.DisableWhereUnsupported();
                _loaded = true;
            }
            catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
            {
                string detail = (e.InnerException ?? e).Message.Split('\n')[0];
                throw new FaceClusterException(
                    "libtorch could not be loaded: " + detail + Environment.NewLine +
                    "  Build with ./facecluster (or dotnet build), which fixes TorchSharp's native library for hosts whose libstdc++ " +
                    "lacks GLIBCXX_3.4.32; a copy of the tool moved to another host must be rebuilt there.", ExitCodes.InternalError, e);
            }
        }
    }

    /// <summary>The backend this binary was built for: "cpu" (TorchSharp-cpu) or "cuda" (TorchSharp-cuda-linux).</summary>
    public static string Backend =>
#if TORCH_CUDA
        "cuda";
#else
        "cpu";
#endif

    public static bool CudaAvailable
    {
        get { EnsureLoaded(); return torch.cuda.is_available(); }
    }

    public static int CudaDeviceCount
    {
        get { EnsureLoaded(); return torch.cuda.is_available() ? torch.cuda.device_count() : 0; }
    }

    public static bool MpsAvailable
    {
        get
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) return false;
            EnsureLoaded();
            try { return torch.mps_is_available(); } catch { return false; }
        }
    }

    /// <summary>Sets libtorch's intra-op threads; 0 leaves the default.</summary>
    public static void SetThreads(int threads)
    {
        if (threads < 0) throw new FaceClusterException($"--threads must be 0 (default) or more, got {threads}", ExitCodes.UsageError);
        EnsureLoaded();
        if (threads > 0) torch.set_num_threads(threads);
    }

    /// <summary>Waits for the device's queued work (a CUDA device runs asynchronously); nothing to wait for on a CPU.</summary>
    public static void Synchronize(torch.Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
