
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>One sample as the ledger sees it now.</summary>
/// <param name="Path">The sample's path relative to the data root, as registered.</param>
/// <param name="Status">active | refed | flagged | awaiting-review | quarantined | restored.</param>
/// <param name="StatusCycle">The cycle in which the status last changed (-1: never changed).</param>
/// <param name="Reason">Why the status last changed ("" if it never did).</param>
/// <param name="Badness">|ln EmaRelative| · n/(n+3), n = observations with a relative loss: how far, either way, the
/// sample's loss sits from its batch-mates', shrunk towards 0 while it has been seen only a few times.</param>
/// <param name="EmaRelative">Moving average of the relative loss (loss / median loss of its step), geometric: exp of the EMA of ln(relative).</param>
/// <param name="RelativeSpread">Standard deviation of ln(relative loss) over its recent observations (from the moving averages).</param>
/// <param name="MeanRelative">Mean relative loss over all its observations.</param>
/// <param name="Auc">Area under the relative-loss curve: Σ (relative − 1) over its observations.</param>
/// <param name="LastZ">Robust z of its smoothed log relative loss against its identity at its last evaluation (NaN if none).</param>
/// <param name="LastErraticZ">Robust z of its relative-loss spread at its last evaluation (NaN if none).</param>
/// <param name="OutlierCycles">Outlier cycles among its last PersistenceWindow evaluated cycles.</param>
/// <param name="EvaluatedCycles">Cycles in which the policy evaluated it (seen after the warm-up).</param>
/// <param name="RefeedWeight">The oversampling weight while re-fed (1 otherwise).</param>
/// <param name="RefeedTrend">Latest log-excess while re-fed ÷ log-excess when the re-feed began (below 1: falling; NaN if never re-fed).</param>
/// <param name="IdentityProbes">Identity probes of it (models with a probe: the autoencoder).</param>
/// <param name="IdentityMargin">Its own decoder's loss ÷ the best other identity's decoder's, smoothed over its probes (geometric; below 1: its own decoder knows it better; NaN without probes).</param>
/// <param name="IdentityZ">Robust z of its identity margin against its identity's at its last evaluation (NaN if none).</param>
public sealed record SampleSummary(
    int SampleId, string Identity, string Path, string Status, long StatusCycle, string Reason,
    double Badness, long Observations, double LastLoss, double EmaLoss, double EmaRelative, double RelativeSpread, double MeanRelative, double Auc,
    double LastZ, double LastErraticZ, int OutlierCycles, int EvaluatedCycles, float RefeedWeight, double RefeedTrend, long LastStep,
    int IdentityProbes, double IdentityMargin, double IdentityZ)
{
    /// <summary>The signal behind its status, named from <see cref="Reason"/> (derived: not on the wire).</summary>
    public string Signal => Curation.CurationSignals.Of(Reason);
}
