using FaceCluster.Synth;

namespace FaceCluster.Tests.Support;

/// <summary>A tiny synthetic face set for the cluster tests.</summary>
internal static class ClusterFixtures
{
    /// <summary>Writes a tiny face set (2 identities, 32 px) into <paramref name="dir"/>.</summary>
    public static string TinyFaceSet(string dir, int perIdentity = 10)
    {
        SynthGenerator.Generate(new SynthOptions { OutDir = dir, Identities = 2, PerIdentity = perIdentity, Size = 32, BadFraction = 0, HardFraction = 0, JpegFraction = 0.5, MaxParallelism = 1 });
        return dir;
    }
}
