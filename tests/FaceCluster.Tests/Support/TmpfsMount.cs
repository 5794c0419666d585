using System.Diagnostics;

namespace FaceCluster.Tests.Support;

/// <summary>A tmpfs of a given size mounted on a folder (a small disk to fill); unmounted when disposed. Needs root: see <see cref="MountFactAttribute"/>.</summary>
internal sealed class TmpfsMount : IDisposable
{
    public TmpfsMount(string path, long bytes)
    {
        Path = path;
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Run("umount", "-l", Path); }
        catch (InvalidOperationException) { }
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {err}");
    }
}
