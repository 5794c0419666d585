
namespace FaceCluster.Cli;

/// <summary>
/// The `facecluster` command line: one class per command under Cli/, each with a static Create().
/// Errors the user can act on are printed as one clear line (no stack trace) with a non-zero exit code.
/// </summary>
public static class CliApp
{
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("FaceCluster: distributed face-model training that cleans its face set while it trains.");
        foreach (var command in CliCommands.All())
            root.Subcommands.Add(command);
        return root;
    }

    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var root = BuildRoot();
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                stderr.WriteLine($"error: {error.Message}");
            string path = string.Join(' ', ["facecluster", .. CommandPath(parsed)]);
            stderr.WriteLine($"Run '{path} --help' for usage.");
            return ExitCodes.UsageError;
        }
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr };
        try
        {
            return parsed.Invoke(config);
        }
        catch (Exception e)
        {
            return ReportException(e, stderr);
        }
    }

    internal static int ReportException(Exception e, TextWriter stderr)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerException! : e;
        switch (inner)
        {
            case FaceClusterException fe:
                stderr.WriteLine($"error: {fe.Message}");
                return fe.ExitCode;
            case OperationCanceledException:
                stderr.WriteLine("interrupted");
                return ExitCodes.Interrupted;
            case IOException io when IsDiskFull(io):
                stderr.WriteLine($"error: the disk is full: {io.Message}");
                return ExitCodes.NoSpace;
            case UnauthorizedAccessException ua:
                stderr.WriteLine($"error: permission denied: {ua.Message}");
                return ExitCodes.UserError;
            case IOException io:
                stderr.WriteLine($"error: {io.Message}");
                return ExitCodes.UserError;
            default:
                stderr.WriteLine($"internal error ({inner.GetType().Name}): {inner.Message}");
                if (Environment.GetEnvironmentVariable("FACECLUSTER_DEBUG") == "1") stderr.WriteLine(inner);
                else stderr.WriteLine("Set FACECLUSTER_DEBUG=1 to print the stack trace.");
                return ExitCodes.InternalError;
        }
    }

    /// <summary>ENOSPC (28) or EDQUOT (122) surfaced as an IOException.</summary>
    public static bool IsDiskFull(IOException e) => (e.HResult & 0xFFFF) is 28 or 122 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new Stack<string>();
        for (var r = parsed.CommandResult; r != null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            if (r.Command is not RootCommand) names.Push(r.Command.Name);
        return names;
    }
}
