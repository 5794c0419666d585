using TorchSharp;

namespace FaceCluster.Common.Torch;

/// <summary>
/// A device as the user names it: cpu, cuda, cuda:N, mps or auto. Resolution to concrete devices happens at
/// run time, so one binary serves every host: the CUDA path is compiled in and picked when CUDA is there.
/// </summary>
public sealed record DeviceSpec(string Kind, int? Index)
{
    public static readonly DeviceSpec Cpu = new("cpu", null);
    public static readonly DeviceSpec Auto = new("auto", null);

    public static DeviceSpec Parse(string text)
    {
        string t = (text ?? "").Trim().ToLowerInvariant();
        if (t is "cpu" or "auto" or "mps" or "cuda") return new DeviceSpec(t, null);
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out int index) && index >= 0)
            return new DeviceSpec("cuda", index);
        throw new FaceClusterException($"--device '{text}' is not a device: use cpu, cuda, cuda:N, mps or auto", ExitCodes.UsageError);
    }

    /// <summary>
    /// The concrete devices this spec means on this host. auto: every CUDA GPU, else MPS, else the CPU.
    /// Asking for a device the host lacks is an error that names it.
    /// </summary>
    public IReadOnlyList<torch.Device> Resolve()
    {
        switch (Kind)
        {
            case "cpu":
                return [torch.CPU];
            case "mps":
                if (!TorchRuntime.MpsAvailable) throw new FaceClusterException("--device mps: Apple's Metal (MPS) is not available on this host");
                return [new torch.Device(DeviceType.MPS, 0)];
            case "cuda":
            {
                int count = TorchRuntime.CudaDeviceCount;
                if (count == 0)
                    throw new FaceClusterException($"--device {this}: no CUDA device is usable here (this build's torch backend is '{TorchRuntime.Backend}'" +
                        (TorchRuntime.Backend == "cpu" ? "; rebuild with -p:TorchBackend=cuda on a GPU host" : "") + ")");
                if (Index is int i)
                {
                    if (i >= count) throw new FaceClusterException($"--device {this}: this host has {count} CUDA device(s), cuda:0..cuda:{count - 1}");
                    return [new torch.Device(DeviceType.CUDA, i)];
                }
                return Enumerable.Range(0, count).Select(n => new torch.Device(DeviceType.CUDA, n)).ToList();
            }
            default: // auto
            {
                int count = TorchRuntime.CudaDeviceCount;
                if (count > 0) return Enumerable.Range(0, count).Select(n => new torch.Device(DeviceType.CUDA, n)).ToList();
                if (TorchRuntime.MpsAvailable) return [new torch.Device(DeviceType.MPS, 0)];
                return [torch.CPU];
            }
        }
    }

    public override string ToString() => Index is int i ? $"{Kind}:{i}" : Kind;
}
