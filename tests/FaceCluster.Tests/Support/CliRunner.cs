using FaceCluster.Cli;

namespace FaceCluster.Tests.Support;

/// <summary>Runs the facecluster CLI in-process, as a user would type it, capturing its output.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) RunCli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
