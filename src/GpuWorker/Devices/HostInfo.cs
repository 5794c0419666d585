
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

    /// <summary>
    /// The memory this process may still take (bytes): MemAvailable from /proc/meminfo, or the GC's view of total
    /// memory, and no more than its memory cgroup's limit less its usage where one is set (a container's or a pod's
    /// limit: past it the kernel kills the process, however much the host has free).
    /// </summary>
    public static long AvailableMemoryBytes()
    {
        long host = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    host = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                    break;
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        long? v2 = CgroupHeadroom(ReadOrNull("/sys/fs/cgroup/memory.max"), ReadOrNull("/sys/fs/cgroup/memory.current"));
        long? v1 = CgroupHeadroom(ReadOrNull("/sys/fs/cgroup/memory/memory.limit_in_bytes"), ReadOrNull("/sys/fs/cgroup/memory/memory.usage_in_bytes"));
        return Math.Min(host, Math.Min(v2 ?? long.MaxValue, v1 ?? long.MaxValue));
    }

    /// <summary>
    /// A memory cgroup's headroom, its limit less its usage (at least 0), from the files' text; null where no limit is
    /// set: "max" (cgroup v2), a value of 2^62 or more (cgroup v1's "unlimited" is 2^63 rounded down to a page), or a
    /// file that is missing or unreadable.
    /// </summary>
    public static long? CgroupHeadroom(string? limit, string? usage)
    {
        if (limit == null || usage == null) return null;
        if (!long.TryParse(limit.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long max) || max >= 1L << 62) return null;
        if (!long.TryParse(usage.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long used)) return null;
        return Math.Max(0, max - used);
    }

    private static string? ReadOrNull(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path) : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
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
