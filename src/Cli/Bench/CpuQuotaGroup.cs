
namespace FaceCluster.Cli.Bench;

/// <summary>
/// A cgroup (v1 "cpu" controller, or v2) with a CPU quota: processes moved into it really run slower, an honest
/// stand-in for a smaller GPU on a machine without one. Needs write access to the cgroup file system (root).
/// Removed when disposed (its processes must have exited).
/// </summary>
internal sealed class CpuQuotaGroup : IDisposable
{
    private readonly string _path;
    private readonly bool _v2;

    private CpuQuotaGroup(string path, bool v2)
    {
        _path = path;
        _v2 = v2;
    }

    /// <summary>A group allowed <paramref name="cores"/> cores' worth of CPU time (e.g. 0.333).</summary>
    public static CpuQuotaGroup Create(string name, double cores)
    {
        const int period = 10_000; // 10 ms periods: a throttled worker is paused for short spells, not for most of every 100 ms
        int quota = Math.Max(1000, (int)Math.Round(cores * period)); // the kernel minimum is 1 ms
        string v1 = "/sys/fs/cgroup/cpu";
        bool v2 = !Directory.Exists(v1) && File.Exists("/sys/fs/cgroup/cgroup.controllers");
        string root = v2 ? "/sys/fs/cgroup" : v1;
        if (!Directory.Exists(root))
            throw new FaceClusterException("no cgroup cpu controller at /sys/fs/cgroup/cpu or /sys/fs/cgroup: this benchmark needs one to slow a worker down");
        string path = Path.Combine(root, name);
        try
        {
            Directory.CreateDirectory(path);
            if (v2) File.WriteAllText(Path.Combine(path, "cpu.max"), string.Create(CultureInfo.InvariantCulture, $"{quota} {period}"));
            else
            {
                File.WriteAllText(Path.Combine(path, "cpu.cfs_period_us"), period.ToString(CultureInfo.InvariantCulture));
                File.WriteAllText(Path.Combine(path, "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { Directory.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new FaceClusterException($"cannot set a CPU quota in {path} ({e.Message}): run as root on a machine whose cgroup file system is writable");
        }
        return new CpuQuotaGroup(path, v2);
    }

    /// <summary>Moves a process (all its threads) into the group.</summary>
    public void Add(int processId)
    {
        try { File.WriteAllText(Path.Combine(_path, "cgroup.procs"), processId.ToString(CultureInfo.InvariantCulture)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceClusterException($"cannot move process {processId} into {_path}: {e.Message}");
        }
    }

    public override string ToString() => _path + (_v2 ? " (cgroup v2)" : " (cgroup v1)");

    public void Dispose()
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            try { Directory.Delete(_path); return; }
            catch (IOException) { Thread.Sleep(100); } // processes still leaving the group
            catch (UnauthorizedAccessException) { return; }
        }
    }
}
