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
        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode all = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            foreach (var entry in new DirectoryInfo(Path).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 }))
                if (entry.LinkTarget is null)
                    try { File.SetUnixFileMode(entry.FullName, all); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        Directory.Delete(Path, recursive: true);
    }

    /// <summary>True when running as root (root reads files whatever their mode).</summary>
    public static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";
}
