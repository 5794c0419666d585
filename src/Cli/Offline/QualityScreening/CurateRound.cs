namespace FaceCluster.Cli.Offline.QualityScreening;

/// <summary>One train–score–label round of `curate`.</summary>
/// <param name="HeldOutAccuracy">Accuracy (P(bad) ≥ 0.5 means bad) on the held-out seed labels; NaN when none are held out.</param>
public sealed record CurateRound(int Round, int TrainGood, int TrainBad, double HeldOutAccuracy, int HeldOut, int MovedGood, int MovedBad, int Unlabelled, double FinalLoss)
{
    public int Moved => MovedGood + MovedBad;
}
