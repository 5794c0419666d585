using System.CommandLine;
using FaceCluster.Cli.Commands;

namespace FaceCluster.Cli;

/// <summary>Every top-level command, in the order `facecluster --help` lists them.</summary>
internal static class CliCommands
{
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return SynthCommand.Create();
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
