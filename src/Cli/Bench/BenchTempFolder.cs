namespace FaceCluster.Cli.Bench;

/// <summary>A benchmark's scratch folder under the system temp folder, removed at the end even after a failure.</summary>
internal sealed class BenchTempFolder : IDisposable
{
    public BenchTempFolder(string name)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"facecluster-bench-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }
    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
