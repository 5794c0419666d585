using FaceCluster.Cli.Commands;

namespace FaceCluster.Cli;

/// <summary>Every top-level command, in the order `facecluster --help` lists them.</summary>
internal static class CliCommands
{
    /// <summary>A command with its options, in the order its help lists them, and its action.</summary>
    public static Command Define(string name, string description, Func<ParseResult, int> action, params IEnumerable<Option> options)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        command.SetAction(action);
        return command;
    }

    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return SynthCommand.Create();
        yield return PlantCommand.Create();
        yield return ScanCommand.Create();
        yield return TrainCommand.Create();
        yield return CoordinatorCommand.Create();
        yield return WorkerCommand.Create();
        yield return LedgerCommand.Create();
        yield return EvalCommand.Create();
        yield return CurateCommand.Create();
        yield return BenchCommand.Create();
    }
}
