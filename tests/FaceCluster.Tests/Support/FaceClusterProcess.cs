using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace FaceCluster.Tests.Support;

/// <summary>A `facecluster` process (dotnet facecluster.dll ...) with its output captured; killed with its children when disposed.</summary>
internal sealed class FaceClusterProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    public FaceClusterProcess(string name, string workDir, params string[] args) : this(name, workDir, [], args) { }

    /// <param name="prefix">A command that runs the tool, e.g. ["ip", "netns", "exec", NAME] (it must exec it, keeping the process id).</param>
    public FaceClusterProcess(string name, string workDir, string[] prefix, string[] args)
    {
        Name = name;
        var start = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : "dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var p in prefix.Skip(1)) start.ArgumentList.Add(p);
        if (prefix.Length > 0) start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(ToolPath());
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output { get { lock (_gate) return _output.ToString(); } }

    private void Append(string? line)
    {
        if (line == null) return;
        lock (_gate) _output.AppendLine(line);
    }

    /// <summary>Waits until the output matches; returns the match. Fails with the output when it does not in time or the process exits first.</summary>
    public async Task<Match> WaitForAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var m = regex.Match(Output);
            if (m.Success) return m;
            if (_process.HasExited)
            {
                await Task.Delay(200);
                m = regex.Match(Output);
                if (m.Success) return m;
                throw new Xunit.Sdk.XunitException($"{Name} exited ({_process.ExitCode}) before printing /{pattern}/:\n{Output}");
            }
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"{Name} did not print /{pattern}/ within {timeout.TotalSeconds} s:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (e.g. a file appeared); false on timeout or when the process exited first.</summary>
    public bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            if (_process.HasExited) return condition();
            Thread.Sleep(100);
        }
        return false;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new Xunit.Sdk.XunitException($"{Name} did not exit within {timeout.TotalSeconds} s:\n{Output}"); }
        _process.WaitForExit(); // drains the output
        return _process.ExitCode;
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    /// <summary>Sends SIGTERM (a graceful stop).</summary>
    public void Terminate()
    {
        if (!_process.HasExited) Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>facecluster.dll of the same configuration as the tests (artifacts/bin/FaceCluster.Coordinator/&lt;config&gt;/), else the copy beside the tests.</summary>
    public static string ToolPath()
    {
        string baseDir = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        string config = Path.GetFileName(baseDir);
        string candidate = Path.GetFullPath(Path.Combine(baseDir, "..", "..", "FaceCluster.Coordinator", config, "facecluster.dll"));
        if (File.Exists(candidate)) return candidate;
        string beside = Path.Combine(baseDir, "facecluster.dll");
        if (File.Exists(beside)) return beside;
        throw new FileNotFoundException($"facecluster.dll not found at {candidate} or {beside}: build src/Coordinator first");
    }
}
