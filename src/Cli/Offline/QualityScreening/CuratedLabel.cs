namespace FaceCluster.Cli.Offline.QualityScreening;

/// <summary>One labelled image, as labels.tsv records it.</summary>
/// <param name="Path">Where the image was when it was labelled (absolute).</param>
/// <param name="Bad">The label: true = bad.</param>
/// <param name="Source">hand | ledger | pseudo.</param>
/// <param name="Round">The round that pseudo-labelled it (0 for seed labels).</param>
/// <param name="PBad">The classifier's P(bad) when it was pseudo-labelled (NaN for seed labels).</param>
/// <param name="HeldOut">A seed label kept out of training to measure accuracy.</param>
/// <param name="MovedTo">Where --move put it ("" when it was not moved).</param>
public sealed record CuratedLabel(string Path, bool Bad, string Source, int Round, double PBad, bool HeldOut, string MovedTo);
