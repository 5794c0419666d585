using FaceCluster.Common.Torch;
using TorchSharp;

namespace FaceCluster.GpuWorker.Devices;

/// <summary>
/// Finds the host's devices and picks the ones a worker process trains on: `--device auto` means every CUDA
/// GPU, else Apple's MPS, else the CPU. GPUs that TorchSharp cannot drive (AMD, Intel; NVIDIA in a CPU-only
/// build) are detected and reported, and the worker falls back to the CPU with a message that says why.
/// </summary>
public static class DeviceInventory
{
    /// <summary>GPUs from NVML (or nvidia-smi) plus any other display-class PCI device.</summary>
    public static IReadOnlyList<GpuInfo> DetectGpus()
    {
        var nvidia = NvmlProbe.Query();
        if (nvidia.Count == 0) nvidia = NvidiaSmiProbe.Query(TimeSpan.FromSeconds(5));
        var pci = PciGpuProbe.Query();
        var others = pci.Where(g => g.Vendor is not ("NVIDIA" or "Virtual") || (g.Vendor == "NVIDIA" && nvidia.Count == 0));
        return nvidia.Concat(others).ToList();
    }

    /// <summary>
    /// The devices of a worker process, one worker each: <paramref name="workers"/> copies of the CPU, or every device
    /// <paramref name="spec"/> names (where --workers can only be left out or match their number).
    /// </summary>
    public static IReadOnlyList<WorkerDevice> ForWorkers(DeviceSpec spec, int workers)
    {
        var devices = Select(spec);
        if (devices.Count == 1 && devices[0].Kind == "cpu")
            return Enumerable.Repeat(devices[0], workers).ToList();
        if (workers > 1 && workers != devices.Count)
            throw new FaceClusterException($"--workers {workers} does not match --device {spec}, which means {devices.Count} device(s) here; leave --workers out to use one worker per device", ExitCodes.UsageError);
        return devices;
    }

    public static IReadOnlyList<WorkerDevice> Select(DeviceSpec spec) =>
        Select(spec, DetectGpus(), TorchRuntime.CudaDeviceCount, TorchRuntime.MpsAvailable, TorchRuntime.Backend);

    /// <summary>The selection logic with its inputs explicit (tests give it any host).</summary>
    public static IReadOnlyList<WorkerDevice> Select(DeviceSpec spec, IReadOnlyList<GpuInfo> gpus, int cudaCount, bool mps, string backend)
    {
        var (cpuVendor, cpuName) = HostInfo.Cpu();
        WorkerDevice Cpu(string note) => new(torch.CPU, "cpu", 0, cpuVendor, cpuName, HostInfo.AvailableMemoryBytes(), note);
        WorkerDevice Cuda(int i)
        {
            var info = gpus.FirstOrDefault(g => g.Vendor == "NVIDIA" && g.Index == i && g.Source != "sysfs");
            return new WorkerDevice(new torch.Device(DeviceType.CUDA, i), "cuda", i, "NVIDIA", info?.Name ?? $"CUDA device {i}", info?.MemoryBytes ?? 0,
                info == null ? "memory unknown: neither NVML nor nvidia-smi answered" : "");
        }

        switch (spec.Kind)
        {
            case "cpu":
                return [Cpu("")];
            case "mps":
                if (!mps) throw new FaceClusterException("--device mps: Apple's Metal (MPS) is not available on this host");
                return [new WorkerDevice(new torch.Device(DeviceType.MPS, 0), "mps", 0, "Apple", "Apple GPU (MPS)", HostInfo.AvailableMemoryBytes(), "")];
            case "cuda":
                if (cudaCount == 0) throw new FaceClusterException($"--device {spec}: {WhyNoCuda(gpus, backend)}");
                if (spec.Index is int index)
                {
                    if (index >= cudaCount) throw new FaceClusterException($"--device {spec}: this host has {cudaCount} CUDA device(s), cuda:0..cuda:{cudaCount - 1}");
                    return [Cuda(index)];
                }
                return Enumerable.Range(0, cudaCount).Select(Cuda).ToList();
            default: // auto
                if (cudaCount > 0) return Enumerable.Range(0, cudaCount).Select(Cuda).ToList();
                if (mps) return [new WorkerDevice(new torch.Device(DeviceType.MPS, 0), "mps", 0, "Apple", "Apple GPU (MPS)", HostInfo.AvailableMemoryBytes(), "")];
                return [Cpu(gpus.Count == 0 ? "" : WhyNoCuda(gpus, backend) + "; training on the CPU")];
        }
    }

    /// <summary>Why no GPU can be used, naming what was found.</summary>
    public static string WhyNoCuda(IReadOnlyList<GpuInfo> gpus, string backend)
    {
        var parts = new List<string>();
        var undrivable = gpus.Where(g => g.Vendor is "AMD" or "Intel").ToList();
        if (undrivable.Count > 0)
            parts.Add($"found {string.Join(", ", undrivable.Select(g => g.Name))}, which TorchSharp cannot drive (it runs on NVIDIA CUDA and Apple MPS only)");
        var nvidia = gpus.Where(g => g.Vendor == "NVIDIA").ToList();
        if (nvidia.Count > 0)
            parts.Add(backend == "cpu"
                ? $"found {string.Join(", ", nvidia.Select(g => g.Name))}, but this build uses TorchSharp's CPU backend (rebuild with -p:TorchBackend=cuda)"
                : $"found {string.Join(", ", nvidia.Select(g => g.Name))}, but libtorch's CUDA runtime reports no usable device (driver too old, or no CUDA_VISIBLE_DEVICES?)");
        if (parts.Count == 0) parts.Add("no GPU was found on this host");
        return string.Join("; ", parts);
    }
}
