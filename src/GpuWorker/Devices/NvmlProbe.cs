using System.Runtime.InteropServices;
using System.Text;

namespace FaceCluster.GpuWorker.Devices;

/// <summary>
/// NVIDIA GPUs and their memory through NVML (libnvidia-ml.so.1, shipped with the driver). TorchSharp has no
/// CUDA memory query, so this is how a worker learns how much memory its GPU has. Returns nothing where the
/// driver is absent.
/// </summary>
internal static class NvmlProbe
{
    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlMemory { public ulong Total; public ulong Free; public ulong Used; }

    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Ansi)]
    private struct NvmlPciInfo
    {
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 16)] public string BusIdLegacy;
        public uint Domain, Bus, Device, PciDeviceId, PciSubSystemId;
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 32)] public string BusId;
    }

    private unsafe delegate int InitFn();
    private unsafe delegate int CountFn(out uint count);
    private unsafe delegate int HandleFn(uint index, out IntPtr device);
    private unsafe delegate int NameFn(IntPtr device, byte* name, uint length);
    private unsafe delegate int MemoryFn(IntPtr device, out NvmlMemory memory);
    private unsafe delegate int PciFn(IntPtr device, out NvmlPciInfo pci);

    public static unsafe IReadOnlyList<GpuInfo> Query()
    {
        if (!NativeLibrary.TryLoad("libnvidia-ml.so.1", out var lib) && !NativeLibrary.TryLoad("nvml", out lib)) return [];
        try
        {
            T Fn<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(lib, name));
            if (Fn<InitFn>("nvmlInit_v2")() != 0) return [];
            try
            {
                if (Fn<CountFn>("nvmlDeviceGetCount_v2")(out uint count) != 0) return [];
                var handleFn = Fn<HandleFn>("nvmlDeviceGetHandleByIndex_v2");
                var nameFn = Fn<NameFn>("nvmlDeviceGetName");
                var memFn = Fn<MemoryFn>("nvmlDeviceGetMemoryInfo");
                PciFn? pciFn = NativeLibrary.TryGetExport(lib, "nvmlDeviceGetPciInfo_v3", out var p) ? Marshal.GetDelegateForFunctionPointer<PciFn>(p) : null;
                var result = new List<GpuInfo>();
                byte* buffer = stackalloc byte[96];
                for (uint i = 0; i < count; i++)
                {
                    if (handleFn(i, out var dev) != 0) continue;
                    string name = nameFn(dev, buffer, 96) == 0 ? Encoding.ASCII.GetString(buffer, Strlen(buffer, 96)) : "NVIDIA GPU";
                    memFn(dev, out var mem);
                    string pci = pciFn != null && pciFn(dev, out var info) == 0 ? info.BusId : "";
                    result.Add(new GpuInfo("NVIDIA", name, (int)i, (long)mem.Total, (long)mem.Free, pci, "nvml"));
                }
                return result;
            }
            finally { Fn<InitFn>("nvmlShutdown")(); }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or MarshalDirectiveException or DllNotFoundException)
        {
            return [];
        }
        finally { NativeLibrary.Free(lib); }
    }

    private static unsafe int Strlen(byte* s, int max)
    {
        int n = 0;
        while (n < max && s[n] != 0) n++;
        return n;
    }
}
