namespace FaceCluster.Common.FaceSet;

/// <summary>What a batch holds.</summary>
public enum BatchKind
{
    /// <summary>Autoencoder training: Inputs are randomly warped faces, Targets the same faces with only
    /// the affine, flip and colour augmentation.</summary>
    Reconstruction,
    /// <summary>Inputs are the augmented faces (no random warp); Targets is null.</summary>
    Plain,
}
