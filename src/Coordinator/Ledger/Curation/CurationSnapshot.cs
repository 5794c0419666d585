
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// The input of <see cref="CurationPolicy.Decide"/>: the samples seen in the closing cycle and the counts the caps need.
/// </summary>
/// <param name="Step">Steps completed when the cycle closed (for the warm-up).</param>
/// <param name="Samples">Samples seen in the cycle that the policy may act on (registered, not quarantined).</param>
/// <param name="Identities">Counts per identity, indexed by <see cref="CurationSample.Identity"/>.</param>
public sealed record CurationSnapshot(long Cycle, long Step, ReadOnlyMemory<CurationSample> Samples, IdentityCounts[] Identities, int TotalSamples, int TotalQuarantined, int TotalAwaitingReview)
{
    /// <summary>
    /// Row-major [samples × <see cref="LatentWidth"/>], row k for <see cref="Samples"/>[k]: the encoder's latent vector
    /// from an identity probe at the end of this cycle, NaN-filled for a sample without one. Empty without latents.
    /// </summary>
    public ReadOnlyMemory<float> Latents { get; init; }

    /// <summary>Floats per sample in <see cref="Latents"/> (0 without latents).</summary>
    public int LatentWidth { get; init; }
}
