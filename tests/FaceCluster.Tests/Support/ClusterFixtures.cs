using FaceCluster.Common.FaceSet;
using FaceCluster.Common.IO;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Protocol.Training;
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

    /// <summary>A tiny face set in temp/faces, its manifest in temp/run, and the spec of a tiny-preset autoencoder run over it.</summary>
    public static (FaceManifest Manifest, RunSpec Run) TinyRun(ScratchFolder temp, int perIdentity, string runId = "tiny", int stepsPerCycle = 4)
    {
        string faces = TinyFaceSet(temp.Combine("faces"), perIdentity);
        var manifest = ManifestStore.LoadOrBuild(faces, temp.Combine("run"), ScanOptions.Default with { MinImages = 1 }).Manifest;
        var preset = ModelPreset.Tiny;
        var run = new RunSpec(runId, ModelKind.Autoencoder.ToString(), preset.Name, manifest.Identities.ToArray(), manifest.ManifestHash,
            manifest.DataRoot, "", TrainerOptions.For(preset).LearningRate, 0, 3, StepsPerCycle: stepsPerCycle, Augment: false);
        return (manifest, run);
    }
}
