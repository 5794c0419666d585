using FaceCluster.Cli.Offline.QualityScreening;
using FaceCluster.Common.Models.Quality;

namespace FaceCluster.Cli.Commands;

/// <summary>`facecluster curate`: a good/bad face classifier grown by pseudo-labelling (see <see cref="QualityCurator"/>).</summary>
internal static class CurateCommand
{
    private static readonly Option<string> Data = new("--data") { Description = "The unlabelled face set: every image under it is scored.", Required = true };
    private static readonly Option<string?> Good = new("--good") { Description = "Folder of images labelled good." };
    private static readonly Option<string?> Bad = new("--bad") { Description = "Folder of images labelled bad." };
    private static readonly Option<double> Low = new("--low") { Description = "Label an image good when P(bad) <= this.", DefaultValueFactory = _ => 0.03 };
    private static readonly Option<double> High = new("--high") { Description = "Label an image bad when P(bad) >= this.", DefaultValueFactory = _ => 0.99 };
    private static readonly Option<int> Rounds = new("--rounds") { Description = "At most this many train-score-label rounds (stops earlier when a round labels nothing).", DefaultValueFactory = _ => 3 };
    private static readonly Option<bool> RecordOnly = new("--record-only") { Description = "Only record labels in OUT/labels.tsv (the default)." };
    private static readonly Option<bool> Move = new("--move") { Description = "Move pseudo-labelled files into the --good / --bad folders (never overwrites, never deletes)." };
    private static readonly Option<string?> LabelsFrom = new("--labels-from") { Description = "Seed labels from this run's ledger: quarantined faces = bad, consistently low loss = good." };
    private static readonly Option<string?> Screen = new("--screen") { Description = "Score this folder with the final classifier and list what it would reject." };
    private static readonly Option<double> Reject = new("--reject") { Description = "--screen rejects images with P(bad) >= this.", DefaultValueFactory = _ => 0.5 };
    private static readonly Option<string?> Out = new("--out") { Description = "Output folder (labels.tsv, screen.tsv, the classifier's checkpoint); default ./runs/curate-<name of --data>." };
    private static readonly Option<string> Preset = new("--preset") { Description = "Classifier size: tiny (32 px), original (64 px) or large (128 px).", DefaultValueFactory = _ => "tiny" };
    private static readonly Option<int> Steps = new("--steps") { Description = "Training steps per round.", DefaultValueFactory = _ => 300 };
    private static readonly Option<int> Batch = new("--batch") { Description = "Batch per step (half good, half bad).", DefaultValueFactory = _ => 32 };
    private static readonly Option<double> LearningRate = new("--learning-rate") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
    private static readonly Option<double> Holdout = new("--holdout") { Description = "Share of the seed labels held out to measure accuracy.", DefaultValueFactory = _ => 0.2 };
    private static readonly Option<double> MaxGrowth = new("--max-growth") { Description = "A round adds at most this many times the labels a class has (most confident first).", DefaultValueFactory = _ => 1.0 };
    private static readonly Option<ulong> Seed = new("--seed") { Description = "Seed of weights and sampling.", DefaultValueFactory = _ => 1UL };

    public static Command Create()
    {
        return CliCommands.Define("curate", "Train a good/bad face classifier from labelled folders (or a run's ledger), pseudo-label the confident images of a face set, retrain, repeat.", Run,
            Data, Good, Bad, Low, High, Rounds, RecordOnly, Move, LabelsFrom, Screen, Reject, Out, Preset, Steps, Batch, LearningRate, Holdout, MaxGrowth, Seed);
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        string data = parse.GetRequiredValue(Data);
        if (parse.GetValue(Move) && parse.GetValue(RecordOnly))
            throw new FaceClusterException("--move and --record-only contradict each other: choose one", ExitCodes.UsageError);
        var options = new CurateOptions(
            data, parse.GetValue(Good), parse.GetValue(Bad), parse.GetValue(Low), parse.GetValue(High), parse.GetValue(Rounds), parse.GetValue(Move),
            parse.GetValue(LabelsFrom), parse.GetValue(Screen),
            parse.GetValue(Out) ?? Path.Combine("runs", "curate-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(data)))),
            ModelPreset.Parse(parse.GetValue(Preset)!),
            new QualityTrainingOptions(parse.GetValue(Steps), parse.GetValue(Batch), parse.GetValue(LearningRate), parse.GetValue(Seed)),
            parse.GetValue(Holdout), parse.GetValue(Reject), parse.GetValue(MaxGrowth));
        var result = QualityCurator.Run(options, output);
        foreach (var w in result.Warnings) output.WriteLine("warning: " + w);
        return ExitCodes.Ok;
    }
}
