
namespace FaceCluster.Common.Models;

/// <summary>
/// How a model wants each worker's local batch composed. The cluster layer never asks which model it trains: the
/// worker's sampler reads this record and draws accordingly.
/// </summary>
/// <param name="ImagesPerIdentity">0: a plain shuffled epoch over the shard (any identities, any mix). K ≥ 2: P×K batches,
/// K images of each of P identities (P = local batch / K; a remainder r &lt; K is one more group of r images).</param>
public sealed record BatchComposition(int ImagesPerIdentity)
{
    /// <summary>Every sample once per epoch in a shuffled order, regardless of identity.</summary>
    public static readonly BatchComposition Shuffled = new(0);

    /// <summary>P identities × <paramref name="imagesPerIdentity"/> images each.</summary>
    public static BatchComposition IdentityGroups(int imagesPerIdentity) =>
        imagesPerIdentity >= 2
            ? new BatchComposition(imagesPerIdentity)
            : throw new FaceClusterException($"images per identity must be at least 2 (an anchor needs a positive), got {imagesPerIdentity}", ExitCodes.UsageError);

    /// <summary>True for P×K batches.</summary>
    public bool GroupsByIdentity => ImagesPerIdentity >= 2;
}
