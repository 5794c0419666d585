using System.Diagnostics;

namespace FaceCluster.GpuWorker.Devices;

/// <summary>Fallback when NVML cannot be loaded: parses `nvidia-smi --query-gpu`.</summary>
internal static class NvidiaSmiProbe
{
    public static IReadOnlyList<GpuInfo> Query(TimeSpan timeout)
    {
        try
        {
            var psi = new ProcessStartInfo("nvidia-smi", "--query-gpu=index,name,memory.total,memory.free,pci.bus_id --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(psi);
            if (process == null) return [];
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds)) { process.Kill(true); return []; }
            return process.ExitCode == 0 ? Parse(output) : [];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return []; // not installed
        }
    }

    /// <summary>Parses lines like "0, NVIDIA H100 80GB HBM3, 81559, 80990, 00000000:1B:00.0" (MiB).</summary>
    internal static IReadOnlyList<GpuInfo> Parse(string csv)
    {
        var result = new List<GpuInfo>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length < 4 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int index)) continue;
            long.TryParse(parts[2], CultureInfo.InvariantCulture, out long total);
            long.TryParse(parts[3], CultureInfo.InvariantCulture, out long free);
            result.Add(new GpuInfo("NVIDIA", parts[1], index, total << 20, free << 20, parts.Length > 4 ? parts[4] : "", "nvidia-smi"));
        }
        return result;
    }
}
