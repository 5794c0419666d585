namespace FaceCluster.Common.IO;

/// <summary>
/// A scratch folder under the system's temporary folder (a benchmark's runs, a test's files), deleted with everything
/// in it when disposed, even after a failure; permissions taken away inside it are given back first.
/// </summary>
public sealed class ScratchFolder : IDisposable
{
    public ScratchFolder(string prefix = "facecluster")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Writes bytes at a relative path ('/'-separated), creating folders.</summary>
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
        try
        {
            RestorePermissions(Path);
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Makes every folder and file below <paramref name="dir"/> accessible again, without following links (a folder may hold link loops).</summary>
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
}
