using FaceCluster.Tests.Support;
using System.Diagnostics;
using Xunit.Abstractions;

namespace FaceCluster.Tests.Deploy;

/// <summary>
/// Runs `deploy/validate.sh --run`: shellcheck, yamllint, the Kubernetes and Compose schemas, the shipped files'
/// agreement, systemd-analyze verify of the units, deploy/rolling-restart.sh against a fake coordinator on 127.0.0.1,
/// and (as root, where network namespaces are permitted) every node of docker-compose.yml and k8s/ started exactly
/// as those files start it, in its own network namespace: the cluster must form, train, finish and not loop.
/// Set FC_VALIDATE_LOGS=DIR to keep each node's output.
/// </summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public sealed class DeployValidationTests(ITestOutputHelper testOutput)
{
    [DeployToolsFact]
    public void Deploy_files_pass_validate_sh_and_run_as_shipped()
    {
        string root = RepositoryRoot();
        string[] mountPoints = ["/data", "/runs", "/cache", "/etc/facecluster", "/run/secrets"];
        var existedBefore = mountPoints.Where(p => Path.Exists(p)).ToHashSet();
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "deploy", "validate.sh"), "--run"])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(12)))
        {
            // SIGTERM first: the script's trap removes the namespaces, processes and mount points it made.
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit(5_000);
            if (!process.WaitForExit(TimeSpan.FromSeconds(60))) process.Kill(entireProcessTree: true);
            Assert.Fail("deploy/validate.sh --run ran for more than 12 minutes");
        }
        string output = stdout.Result + stderr.Result;
        testOutput.WriteLine(output);
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

        // The shipped files, run as written.
        if (output.Contains("run: SKIPPED", StringComparison.Ordinal))
        {
            Assert.True(Environment.UserName != "root" || !NetworkNamespaces.Permitted(), $"validate.sh skipped the run where it could have run:\n{output}");
            Console.WriteLine("SKIPPED the shipped-files run of deploy/validate.sh --run: " + output.Split('\n').First(l => l.Contains("run: SKIPPED")));
            return;
        }
        foreach (string setup in new[] { "compose", "k8s" })
        {
            Assert.Contains($"run: ok  {setup}: the run finished: step 8 of 8", output);
            Assert.Contains($"run: ok  {setup}: started again, the coordinator resumes the finished run at step 8 and stays up (no loop)", output);
        }
        // The names come from the files: every Compose service and every StatefulSet pod (replicas counted).
        Assert.Contains("run: ok  compose: the cluster formed: all 3 workers trained", output);
        Assert.Contains("run: ok  compose: worker-cpu exited 0 when the run was done and its policy (on-failure) leaves it down", output);
        Assert.Contains("run: ok  compose: coordinator stays up after the run (--stay-up), not restarted", output);
        Assert.Contains("run: ok  k8s: the cluster formed: all 6 workers trained", output);
        Assert.Contains("run: ok  k8s: facecluster-worker-l4-1 stays up after the run (--stay-up), not restarted", output);
        Assert.Contains("k8s: facecluster-coordinator-0 (facecluster-coordinator-0) runs as 1654:1654, restart always: facecluster coordinator --data /data --run /runs/main", output);
        Assert.DoesNotContain("run: FAIL", output);
        // Nothing is left behind.
        Assert.DoesNotContain("fcv", RunCommand("ip", "netns", "list"));
        Assert.DoesNotContain(mountPoints, p => Path.Exists(p) && !existedBefore.Contains(p));
    }

    private static string RunCommand(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return text;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "deploy", "validate.sh")) && File.Exists(Path.Combine(dir.FullName, "FaceCluster.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no repository root (with deploy/validate.sh) above {AppContext.BaseDirectory}");
    }
}
