using TorchSharp;

namespace FaceCluster.GpuWorker.Devices;

/// <summary>A device one worker actor trains on, with what the operator should know about it.</summary>
public sealed record WorkerDevice(torch.Device Device, string Kind, int Index, string Vendor, string Name, long MemoryBytes, string Note)
{
    public override string ToString() => Kind == "cpu" ? $"cpu ({Name})" : $"{Kind}:{Index} ({Name})";
}
