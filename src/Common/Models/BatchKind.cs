namespace FaceCluster.Common.Models;

/// <summary>What a model needs from the loader for each sample.</summary>
public enum BatchKind
{
    /// <summary>A randomly warped input and the unwarped target (faceswap's training pairs).</summary>
    Reconstruction,
    /// <summary>One augmented image per sample; the label comes from the manifest.</summary>
    Plain,
}
