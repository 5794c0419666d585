using FaceCluster.Cli.Offline.Evaluation;
using FaceCluster.Common.Models.Triplet;

namespace FaceCluster.Cli.Commands;

/// <summary>`facecluster eval`: LFW-style 10-fold verification accuracy of a triplet run on held-out images.</summary>
internal static class EvalCommand
{
    private static readonly Option<string> RunDir = new("--run") { Description = "Run folder of a triplet model (its latest valid checkpoint is used).", Required = true };
    private static readonly Option<string> Data = new("--data") { Description = "The run's face set (its validation images are used) or a folder of held-out identity sub-folders.", Required = true };
    private static readonly Option<int> Folds = new("--folds") { Description = "Folds of the verification (the threshold of each is chosen on the others).", DefaultValueFactory = _ => VerificationEvaluator.DefaultFolds };
    private static readonly Option<int> Pairs = new("--pairs") { Description = "At most this many same-identity pairs, and as many different-identity pairs.", DefaultValueFactory = _ => VerificationEvaluator.DefaultPairsPerKind };
    private static readonly Option<ulong> Seed = new("--seed") { Description = "Seed of the pair sampling and the folds.", DefaultValueFactory = _ => 1UL };

    public static Command Create()
    {
        return CliCommands.Define("eval", "Verification accuracy of a triplet run: same/different pairs of held-out images, 10-fold, threshold chosen on the other folds.", Run,
            RunDir, Data, Folds, Pairs, Seed);
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        int folds = parse.GetValue(Folds), pairs = parse.GetValue(Pairs);
        if (folds < 2) throw new FaceClusterException($"--folds must be at least 2, got {folds}", ExitCodes.UsageError);
        if (pairs < folds) throw new FaceClusterException($"--pairs must be at least --folds ({folds}), got {pairs}", ExitCodes.UsageError);
        var report = TripletEvaluation.Run(parse.GetRequiredValue(RunDir), parse.GetRequiredValue(Data), folds, pairs, parse.GetValue(Seed));
        output.WriteLine($"checkpoint {report.Checkpoint} (step {report.Step}); {report.Images.Source}, {report.Loaded} loaded");
        foreach (var failure in report.Failures) output.WriteLine("skipped: " + failure);
        output.WriteLine($"pairs: {report.Result.SamePairs} same, {report.Result.DifferentPairs} different");
        output.WriteLine(report.Result.ToString());
        return ExitCodes.Ok;
    }
}
