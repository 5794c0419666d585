using System.Diagnostics;

namespace FaceCluster.Tests.Support;

/// <summary>Whether this process may make Linux network namespaces (root and a working `ip netns add`).</summary>
public static class NetworkNamespaces
{
    public static bool Permitted()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return false;
        string probe = "fcprobe-" + Guid.NewGuid().ToString("N")[..6];
        if (Ip("netns", "add", probe) != 0) return false;
        Ip("netns", "del", probe);
        return true;
    }

    /// <summary>Runs `ip ARGS`; its exit code, or -1 when `ip` is missing or hangs.</summary>
    public static int Ip(params string[] args)
    {
        var start = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(start)!;
            p.WaitForExit(15_000);
            return p.HasExited ? p.ExitCode : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // no `ip` here
        }
    }
}
