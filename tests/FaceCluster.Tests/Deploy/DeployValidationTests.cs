using FaceCluster.Tests.Support;
using System.Diagnostics;

namespace FaceCluster.Tests.Deploy;

/// <summary>
/// Runs deploy/validate.sh: shellcheck, yamllint, the Kubernetes and Compose schemas, systemd-analyze verify of the
/// units, and deploy/rolling-restart.sh against a fake coordinator on 127.0.0.1.
/// </summary>
[Trait("Tier", "integration")]
public sealed class DeployValidationTests
{
    [DeployToolsFact]
    public void Deploy_files_pass_validate_sh()
    {
        string root = RepositoryRoot();
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "deploy", "validate.sh")])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("deploy/validate.sh ran for more than 5 minutes");
        }
        string output = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode != 3, $"deploy/validate.sh could not install a tool it needs:\n{output}");
        Assert.True(process.ExitCode == 0, $"deploy/validate.sh failed (exit {process.ExitCode}):\n{output}");
        Assert.Contains("all checks passed", output);
        Assert.Contains("ok  deploy/k8s/coordinator-statefulset.yaml#1 StatefulSet/facecluster-coordinator", output);
        Assert.Contains("ok  deploy/docker-compose.yml#1 compose", output);
        Assert.Contains("rolling restart: ok", output);
        // The shipped files agree with each other: joins and advertised names, no shipped secret, a startupProbe.
        Assert.Contains("joins facecluster-coordinator-0.facecluster-coordinator:4053, the address the coordinator advertises", output);
        Assert.Contains("joins coordinator:4053, the address the coordinator advertises", output);
        Assert.Contains("no cluster secret value is shipped", output);
        Assert.Contains("the coordinator has a startupProbe", output);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "deploy", "validate.sh")) && File.Exists(Path.Combine(dir.FullName, "FaceCluster.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no repository root (with deploy/validate.sh) above {AppContext.BaseDirectory}");
    }
}
