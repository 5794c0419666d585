
namespace FaceCluster.Cli.Commands;

/// <summary>
/// `facecluster bench ...`: each benchmark measures FaceCluster against a baseline in the same run
/// and prints the ratio. One subcommand per benchmark, each in its own file under Cli/Bench/.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks: each prints FaceCluster's figure, a baseline measured in the same run, and their ratio.");
        foreach (var sub in Subcommands())
            command.Subcommands.Add(sub);
        return command;
    }

    private static IEnumerable<Command> Subcommands()
    {
        yield return Bench.BenchLoaderCommand.Create();
        yield return Bench.BenchAllReduceCommand.Create();
        yield return Bench.BenchLedgerCommand.Create();
        yield return Bench.BenchCurationCommand.Create();
        yield return Bench.BenchTrainCommand.Create();
        yield return Bench.BenchScalingCommand.Create();
        yield return Bench.BenchHeteroCommand.Create();
    }
}
