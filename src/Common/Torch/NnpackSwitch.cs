using System.Runtime.InteropServices;

namespace FaceCluster.Common.Torch;

/// <summary>
/// Turns libtorch's NNPACK convolutions off on a CPU where NNPACK cannot initialise. libtorch 2.10 then logs
/// "Could not initialize NNPACK! Reason: Unsupported hardware." at every convolution (tens of thousands of lines a
/// minute of training on the virtual AMD EPYC CPUs of some cloud hosts, whose cache layout NNPACK's cpuinfo does not
/// recognise), and falls back to its other kernels anyway. Turning NNPACK off is what
/// <c>torch.backends.nnpack.set_flags(False)</c> does in Python: <c>at::globalContext().setUserEnabledNNPACK(false)</c>,
/// which the convolution checks before NNPACK. TorchSharp 0.107 does not expose it, so it is called through
/// libtorch_cpu's exported C++ symbols (Linux, Itanium ABI). Where NNPACK works, nothing changes.
/// </summary>
public static class NnpackSwitch
{
    private const string GlobalContext = "_ZN2at13globalContextEv";
    private const string SetUserEnabled = "_ZN2at7Context20setUserEnabledNNPACKEb";
    private const string UserEnabled = "_ZNK2at7Context17userEnabledNNPACKEv";
    private const string Available = "_ZN2at6native17_nnpack_availableEv";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nint ContextFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.I1)]
    private delegate bool FlagFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.I1)]
    private delegate bool ContextFlagFn(nint context);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetFlagFn(nint context, [MarshalAs(UnmanagedType.I1)] bool value);

    /// <summary>What the last call found: null before any call or where libtorch's symbols are not reachable.</summary>
    public static NnpackState? State { get; private set; }

    /// <summary>
    /// Asks libtorch (already loaded) whether NNPACK initialises, and turns it off where it does not. Asking logs
    /// libtorch's warning once. Returns what it found; never throws.
    /// </summary>
    public static NnpackState? DisableWhereUnsupported()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return null;
            string? path = LoadedLibraryPath("libtorch_cpu.so");
            if (path is null || !NativeLibrary.TryLoad(path, out nint library)) return null;
            if (!NativeLibrary.TryGetExport(library, GlobalContext, out nint contextFn)
                || !NativeLibrary.TryGetExport(library, SetUserEnabled, out nint setFn)
                || !NativeLibrary.TryGetExport(library, UserEnabled, out nint enabledFn)
                || !NativeLibrary.TryGetExport(library, Available, out nint availableFn))
                return null;
            nint context = Marshal.GetDelegateForFunctionPointer<ContextFn>(contextFn)();
            var enabled = Marshal.GetDelegateForFunctionPointer<ContextFlagFn>(enabledFn);
            if (context == 0) return null;
            if (!enabled(context)) return State = NnpackState.Off;
            if (Marshal.GetDelegateForFunctionPointer<FlagFn>(availableFn)()) return State = NnpackState.Available;
            Marshal.GetDelegateForFunctionPointer<SetFlagFn>(setFn)(context, false);
            return State = enabled(context) ? null : NnpackState.TurnedOffUnsupported;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The full path of a shared library this process has loaded (from /proc/self/maps), or null.</summary>
    private static string? LoadedLibraryPath(string fileName)
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0) continue;
            string path = line[slash..];
            if (Path.GetFileName(path) == fileName) return path;
        }
        return null;
    }
}
