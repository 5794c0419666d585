namespace FaceCluster.Tests.Synth;

/// <summary>A temporary folder for one test, deleted (with DIR.truth.json and DIR.holdout beside DIR) on dispose.</summary>
internal sealed class SynthTempDir : IDisposable
{
    public SynthTempDir()
    {
        Root = Path.Combine(Path.GetTempPath(), "fc-synth-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    /// <summary>The folder that holds everything this test writes.</summary>
    public string Root { get; }

    /// <summary>A face-set folder path inside <see cref="Root"/> (not created).</summary>
    public string Set(string name = "set") => Path.Combine(Root, name);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
