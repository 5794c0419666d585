using TorchSharp;

namespace FaceCluster.Common.Models.Training;

/// <summary>Where a replica runs the Adam update of the range it owns (<c>--update-on</c>).</summary>
public enum UpdatePlacement
{
    /// <summary>On the host's cores (<see cref="FlatAdam"/>, SIMD): the moments in host memory. Wins on a CPU worker.</summary>
    Host,

    /// <summary>On the device (<see cref="DeviceAdam"/>): the moments stay in device memory. Wins on a GPU.</summary>
    Device,
}

public static class UpdatePlacements
{
    public const string Names = "auto, host or device";

    /// <summary>
    /// <c>--update-on</c> as the user gives it: <c>auto</c> (the default) is the host on a CPU and the device on
    /// anything else; <c>host</c> and <c>device</c> are taken as they are (on a CPU, <c>device</c> runs the device
    /// path with separate device buffers: what the tests exercise without a GPU).
    /// </summary>
    public static UpdatePlacement Resolve(string? flag, torch.Device device) => Normalize(flag) switch
    {
        "auto" => device.type == DeviceType.CPU ? UpdatePlacement.Host : UpdatePlacement.Device,
        "host" => UpdatePlacement.Host,
        _ => UpdatePlacement.Device,
    };

    /// <summary>The flag in its canonical spelling (auto for none); a wrong value is refused by name before anything starts.</summary>
    public static string Normalize(string? flag)
    {
        string t = (flag ?? "").Trim().ToLowerInvariant();
        if (t.Length == 0) return "auto";
        return t is "auto" or "host" or "device" ? t : throw new FaceClusterException($"--update-on '{flag}' is not a placement: use {Names}", ExitCodes.UsageError);
    }

    public static string Name(this UpdatePlacement placement) => placement == UpdatePlacement.Device ? "device" : "host";
}
