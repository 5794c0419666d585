using System.Diagnostics;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.GpuWorker.Devices;

/// <summary>
/// Reads a device's memory, utilisation and temperature from its driver: nvidia-smi for a CUDA device
/// (memory.used, memory.total, utilization.gpu, temperature.gpu); "n/a" with the reason for every other device, or
/// when nvidia-smi is missing or fails (the first failure is remembered: it is not run again).
/// </summary>
public sealed class DeviceTelemetryReader(WorkerDevice device)
{
    private string? _unavailable = device.Kind == "cuda" ? null : $"no driver telemetry for a {device.Kind} device";

    public DeviceTelemetry Read()
    {
        if (_unavailable != null) return DeviceTelemetry.NotAvailable(_unavailable);
        try
        {
            var info = new ProcessStartInfo("nvidia-smi", ["--query-gpu=memory.used,memory.total,utilization.gpu,temperature.gpu",
                "--format=csv,noheader,nounits", "-i", device.Index.ToString(CultureInfo.InvariantCulture)])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(info)!;
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(5000) || process.ExitCode != 0)
            {
                _unavailable = $"nvidia-smi failed ({process.StandardError.ReadToEnd().Trim()})";
                return DeviceTelemetry.NotAvailable(_unavailable);
            }
            return ParseNvidiaSmi(output) ?? DeviceTelemetry.NotAvailable("nvidia-smi printed nothing readable");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            _unavailable = "nvidia-smi is not installed";
            return DeviceTelemetry.NotAvailable(_unavailable);
        }
    }

    /// <summary>One line of `nvidia-smi --query-gpu=memory.used,memory.total,utilization.gpu,temperature.gpu --format=csv,noheader,nounits` (MiB, %, °C).</summary>
    public static DeviceTelemetry? ParseNvidiaSmi(string output)
    {
        string? line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var fields = line?.Split(',', StringSplitOptions.TrimEntries);
        if (fields is not { Length: 4 }) return null;
        static double Field(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN; // "[N/A]" → NaN
        double used = Field(fields[0]), total = Field(fields[1]);
        return new DeviceTelemetry(double.IsFinite(used) ? (long)(used * 1024 * 1024) : -1, double.IsFinite(total) ? (long)(total * 1024 * 1024) : -1,
            Field(fields[2]), Field(fields[3]), "nvidia-smi");
    }
}
