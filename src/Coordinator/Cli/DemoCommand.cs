using System.CommandLine;

namespace FaceCluster.Coordinator.Cli;

/// <summary>`facecluster demo`: the README's main job.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Generate a face set with planted bad faces, train on it with a coordinator and 2 local workers, and report how well the ledger found the bad faces.");
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        output.WriteLine("facecluster demo: not available yet.");
        output.WriteLine("The demo needs the training engine, the cluster and the ledger, which have not landed.");
        return 1;
    }
}
