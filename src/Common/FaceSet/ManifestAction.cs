namespace FaceCluster.Common.FaceSet;

/// <summary>What <see cref="ManifestStore.LoadOrBuild"/> did with RUNDIR/manifest.json.</summary>
public enum ManifestAction
{
    /// <summary>No usable manifest (none, unreadable, other data root, other options, other format): built from scratch, ids kept by path where a previous manifest could be read.</summary>
    Built,
    /// <summary>Nothing changed in the face set: the manifest was used as it is and not rewritten.</summary>
    Reused,
    /// <summary>Files were added, removed, changed or touched: the manifest was updated and rewritten.</summary>
    Updated,
}
