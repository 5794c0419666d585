
namespace FaceCluster.GpuWorker.Devices;

/// <summary>
/// Every display-class PCI device from sysfs (/sys/bus/pci/devices/*/class = 0x03xxxx), so GPUs TorchSharp
/// cannot drive (AMD, Intel) are found and reported instead of silently ignored.
/// </summary>
internal static class PciGpuProbe
{
    public static IReadOnlyList<GpuInfo> Query(string sysRoot = "/sys")
    {
        string root = Path.Combine(sysRoot, "bus", "pci", "devices");
        if (!Directory.Exists(root)) return [];
        var result = new List<GpuInfo>();
        int index = 0;
        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            string? cls = ReadTrimmed(Path.Combine(dir, "class"));
            if (cls == null || !cls.StartsWith("0x03", StringComparison.OrdinalIgnoreCase)) continue;
            string vendorId = (ReadTrimmed(Path.Combine(dir, "vendor")) ?? "").ToLowerInvariant();
            string deviceId = ReadTrimmed(Path.Combine(dir, "device")) ?? "?";
            string vendor = vendorId switch
            {
                "0x10de" => "NVIDIA",
                "0x1002" => "AMD",
                "0x8086" => "Intel",
                "0x1af4" or "0x1234" or "0x15ad" => "Virtual",
                _ => vendorId,
            };
            long vram = long.TryParse(ReadTrimmed(Path.Combine(dir, "mem_info_vram_total")), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
            result.Add(new GpuInfo(vendor, $"{vendor} GPU (PCI device {deviceId})", index++, vram, 0, Path.GetFileName(dir), "sysfs"));
        }
        return result;
    }

    private static string? ReadTrimmed(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path).Trim() : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
