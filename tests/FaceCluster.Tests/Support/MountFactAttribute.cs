namespace FaceCluster.Tests.Support;

/// <summary>
/// A test that mounts a small tmpfs (to fill a disk for real): it needs CAP_SYS_ADMIN, as root on a normal
/// machine. Elsewhere it is skipped with a message saying so.
/// </summary>
public sealed class MountFactAttribute : FactAttribute
{
    public MountFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) { Skip = "mounts a tmpfs: Linux only"; return; }
        if (!HasCapSysAdmin()) Skip = "mounts a tmpfs to fill a disk: needs root (CAP_SYS_ADMIN), which this process lacks";
    }

    private static bool HasCapSysAdmin()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << 21)) != 0;
        }
        catch (IOException) { }
        return false;
    }
}
