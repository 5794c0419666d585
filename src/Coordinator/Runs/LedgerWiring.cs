using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using Akka.Actor;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Coordinator.Runs;

/// <summary>How a run creates its ledger: in the run folder, with the face set's training samples registered.</summary>
public static class LedgerWiring
{
    /// <summary>The face set as the ledger sees it: the training samples (validation images are never trained on, so never judged).</summary>
    public static RegisterFaceSet FaceSetOf(FaceManifest manifest)
    {
        var identities = manifest.Identities.ToArray();
        var index = identities.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var samples = manifest.TrainingSamples.OrderBy(s => s.Id).ToArray();
        return new RegisterFaceSet(identities, samples.Select(s => s.Id).ToArray(), samples.Select(s => index[s.Identity]).ToArray(),
            samples.Select(s => s.RelativePath).ToArray(), manifest.ManifestHash);
    }

    public static Func<Props> PropsFor(string runDir, FaceManifest manifest, CurationPolicyOptions policy, QuarantineAction pruneAction, ILoggerFactory loggerFactory)
    {
        var noFace = policy.Mode == CurationMode.Off ? null
            : RunFaceCheck.NoFaceSamples(runDir, manifest, policy.FaceCheck, loggerFactory.CreateLogger("FaceCluster.FaceCheck"));
        var texture = policy.Mode == CurationMode.Off ? null
            : RunTextureCheck.Scores(manifest, policy.DetectTexture, policy.MinTrajectoryReference, loggerFactory.CreateLogger("FaceCluster.TextureCheck"));
        var options = new LedgerOptions(runDir, manifest.DataRoot)
        {
            Policy = policy, PruneAction = pruneAction, LoggerFactory = loggerFactory, FaceSet = FaceSetOf(manifest), NoFaceSamples = noFace, TextureScores = texture,
        };
        options.Validate();
        return () => LedgerActor.Props(options);
    }
}
