namespace FaceCluster.Tests.FaceSet;

/// <summary>A temporary folder deleted (permissions restored first) when disposed, even after a failure.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "fc-faceset")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Writes bytes at a relative path, creating folders.</summary>
    public string Write(string relativePath, byte[] bytes)
    {
        string full = Combine(relativePath.Split('/'));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    public void Dispose()
    {
        if (!Directory.Exists(Path)) return;
        if (!OperatingSystem.IsWindows()) RestorePermissions(Path);
        Directory.Delete(Path, recursive: true);
    }

    /// <summary>Makes every folder and file below <paramref name="dir"/> accessible again, without following links
    /// (tests create link loops).</summary>
    private static void RestorePermissions(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        const UnixFileMode all = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        try { File.SetUnixFileMode(dir, all); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        IEnumerable<FileSystemInfo> entries;
        try { entries = new DirectoryInfo(dir).GetFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true }); }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        foreach (var entry in entries)
        {
            if (entry.LinkTarget is not null) continue;
            if (entry is DirectoryInfo) RestorePermissions(entry.FullName);
            else try { File.SetUnixFileMode(entry.FullName, all); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>True when running as root (root reads files whatever their mode).</summary>
    public static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";
}
