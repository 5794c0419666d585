namespace FaceCluster.GpuWorker.Devices;

/// <summary>A GPU found on the host, whether or not TorchSharp can drive it.</summary>
/// <param name="Source">How it was found: nvml, nvidia-smi or sysfs.</param>
public sealed record GpuInfo(string Vendor, string Name, int Index, long MemoryBytes, long FreeBytes, string PciAddress, string Source);
