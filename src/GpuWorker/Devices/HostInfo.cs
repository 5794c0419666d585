
namespace FaceCluster.GpuWorker.Devices;

/// <summary>The CPU's name and vendor and the memory available, from /proc.</summary>
public static class HostInfo
{
    public static (string Vendor, string Name) Cpu()
    {
        try
        {
            string vendor = "CPU", name = Environment.ProcessorCount + "-core CPU";
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("vendor_id", StringComparison.Ordinal)) vendor = After(line) switch { "GenuineIntel" => "Intel", "AuthenticAMD" => "AMD", var v => v };
                else if (line.StartsWith("model name", StringComparison.Ordinal)) { name = After(line); break; }
            }
            return (vendor, name);
        }
        catch (IOException) { return ("CPU", Environment.ProcessorCount + "-core CPU"); }
        catch (UnauthorizedAccessException) { return ("CPU", Environment.ProcessorCount + "-core CPU"); }
    }

    /// <summary>MemAvailable from /proc/meminfo (bytes), or the GC's view of total memory.</summary>
    public static long AvailableMemoryBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>Resident set size of this process (bytes), from /proc/self/statm.</summary>
    public static long ResidentBytes()
    {
        try
        {
            var parts = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(parts[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (IOException) { return Environment.WorkingSet; }
    }

    private static string After(string line) => line[(line.IndexOf(':') + 1)..].Trim();
}
