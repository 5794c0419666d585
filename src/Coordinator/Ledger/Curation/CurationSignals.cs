namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// The signal that condemned a face, named from the reason the policy recorded for it (every reason begins with the
/// rule that fired): a short label for the ledger's lists and the dashboard. The reason itself keeps the figures.
/// </summary>
public static class CurationSignals
{
    public const string Texture = "texture", Trajectory = "trajectory", FacePrior = "face prior", IdentityProbe = "identity probe", Latent = "latent", LowLoss = "low loss",
        ErraticLoss = "erratic loss", LossRefed = "loss, re-fed", LossRelapse = "loss, relapsed", Loss = "loss", Person = "person", Other = "other";

    /// <summary>The label of a recorded reason ("trajectory", "face prior", "identity probe", ...); "other" for one no rule wrote.</summary>
    public static string Of(string? reason)
    {
        if (string.IsNullOrEmpty(reason)) return Other;
        string r = reason.StartsWith("would prune: ", StringComparison.Ordinal) ? reason["would prune: ".Length..] : reason;
        if (r.StartsWith("texture outlier", StringComparison.Ordinal)) return Texture;
        if (r.StartsWith("trajectory outlier", StringComparison.Ordinal)) return Trajectory;
        if (r.StartsWith("no face where", StringComparison.Ordinal)) return FacePrior;
        if (r.StartsWith("identity outlier", StringComparison.Ordinal)) return IdentityProbe;
        if (r.StartsWith("latent outlier", StringComparison.Ordinal)) return Latent;
        if (r.StartsWith("low outlier", StringComparison.Ordinal)) return LowLoss;
        if (r.StartsWith("erratic", StringComparison.Ordinal)) return ErraticLoss;
        if (r.StartsWith("stayed an outlier while re-fed", StringComparison.Ordinal) || r.StartsWith("still an outlier after", StringComparison.Ordinal)) return LossRefed;
        if (r.StartsWith("high outlier", StringComparison.Ordinal))
            return r.Contains("after re-feeding made it normal", StringComparison.Ordinal) ? LossRelapse : Loss;
        if (r.Contains("by a person", StringComparison.Ordinal)) return Person;
        return Other;
    }
}
