using TorchSharp;

namespace FaceCluster.Common.Models.Training;

/// <summary>
/// <c>--overlap auto|on|off</c>: whether a worker reduces its gradient buckets while backward runs (on) or after it (off).
/// </summary>
public static class StepOverlap
{
    /// <summary>The flag in its canonical spelling (auto for none); a wrong value is refused by name before anything starts.</summary>
    public static string Normalize(string? flag)
    {
        string t = (flag ?? "").Trim().ToLowerInvariant();
        if (t.Length == 0) return "auto";
        return t is "auto" or "on" or "off" ? t : throw new FaceClusterException($"--overlap '{flag}' is not a setting: use auto, on or off", ExitCodes.UsageError);
    }

    /// <summary>
    /// auto: on for a GPU worker (backward runs on the device, the host's cores move the bytes), and for a CPU worker only
    /// where this host's workers leave a core free for the all-reduce's thread; where their libtorch threads take every
    /// core, the reduce would take its cycles from backward (measured: 2 one-thread workers on 2 cores, overlapped /
    /// serial 0.98, rounds 0.93–0.98, bench scaling).
    /// </summary>
    public static bool Resolve(string? flag, torch.Device device, int threadsPerWorker, int workersOnHost) => Normalize(flag) switch
    {
        "on" => true,
        "off" => false,
        _ => device.type != DeviceType.CPU || (long)Math.Max(1, threadsPerWorker) * Math.Max(1, workersOnHost) < Environment.ProcessorCount,
    };
}
