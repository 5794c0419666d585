namespace FaceCluster.Common.Models;

/// <summary>The model families FaceCluster trains. All run through the same coordinator, workers and ledger.</summary>
public enum ModelKind
{
    /// <summary>faceswap-style: one shared encoder, one decoder per identity.</summary>
    Autoencoder,
    /// <summary>FaceNet/OpenFace-style 128-D embeddings trained with online triplet mining.</summary>
    Triplet,
    /// <summary>A good/bad face classifier grown by pseudo-labelling: seeded with labels, it screens the rest and is retrained on its confident calls (`facecluster curate`).</summary>
    Quality,
}
