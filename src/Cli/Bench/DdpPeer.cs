using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// PyTorch DistributedDataParallel (gloo, CPU) on FaceCluster's autoencoder layout, the peer `bench scaling` measures
/// in the same invocation (Bench/Peer/ddp_peer.py, run with the machine's python3 and Debian's python3-torch).
/// </summary>
internal sealed class DdpPeer
{
    private readonly string _python;
    private readonly string _script;
    private readonly ModelPreset _preset;
    private readonly int _identities;

    private DdpPeer(string python, string script, ModelPreset preset, int identities) => (_python, _script, _preset, _identities) = (python, script, preset, identities);

    /// <summary>The python3 on PATH first, then Debian's own (a pyenv or venv python3 on PATH lacks the apt package's torch).</summary>
    private static readonly string[] Interpreters = ["python3", "/usr/bin/python3"];

    /// <summary>The peer written into <paramref name="folder"/>; null, with the reason, when python3 with torch cannot run here.</summary>
    public static DdpPeer? Prepare(string folder, ModelPreset preset, int identities, out string? whyNot)
    {
        string script = Path.Combine(folder, "ddp_peer.py");
        using (var resource = typeof(DdpPeer).Assembly.GetManifestResourceStream("bench/ddp_peer.py")!)
        using (var file = File.Create(script))
            resource.CopyTo(file);
        whyNot = "python3 is not installed";
        foreach (string python in Interpreters)
        {
            var (code, output) = Python(python, ["-c", "import torch, torch.distributed as d; print(torch.__version__, d.is_gloo_available())"], TimeSpan.FromSeconds(60));
            if (code == 0 && output.TrimEnd().EndsWith("True", StringComparison.Ordinal)) { whyNot = null; return new DdpPeer(python, script, preset, identities); }
            if (code == 0) whyNot = "PyTorch here has no gloo backend";
            else if (code != -1 && whyNot == "python3 is not installed") whyNot = "python3 has no torch module (Debian: apt-get install python3-torch)";
        }
        return null;
    }

    /// <summary>Samples/s of <paramref name="procs"/> one-thread processes (1: a plain loop), and the model's parameter count.</summary>
    public (double SamplesPerSecond, long Parameters) Measure(int procs, int batch, int steps, int warmup, int threads = 1, string device = "cpu")
    {
        string[] args =
        [
            _script, "--procs", procs.ToString(CultureInfo.InvariantCulture), "--batch", batch.ToString(CultureInfo.InvariantCulture),
            "--steps", steps.ToString(CultureInfo.InvariantCulture), "--warmup", warmup.ToString(CultureInfo.InvariantCulture),
            "--identities", _identities.ToString(CultureInfo.InvariantCulture), "--size", _preset.ImageSize.ToString(CultureInfo.InvariantCulture),
            "--encoder", string.Join(',', _preset.EncoderChannels), "--latent", _preset.Latent.ToString(CultureInfo.InvariantCulture),
            "--bottleneck", _preset.BottleneckChannels.ToString(CultureInfo.InvariantCulture), "--decoder", string.Join(',', _preset.DecoderChannels),
            "--threads", threads.ToString(CultureInfo.InvariantCulture), "--device", device,
        ];
        var (code, output) = Python(_python, args, TimeSpan.FromMinutes(10), threads);
        var match = Regex.Match(output, @"params=(\d+) samples_per_second=([0-9.]+)");
        if (code != 0 || !match.Success)
            throw new FaceClusterException($"the PyTorch DDP peer failed (exit {code}): {output.Trim().Split('\n').LastOrDefault()}");
        return (double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    private static (int Code, string Output) Python(string python, string[] args, TimeSpan timeout, int threads = 1)
    {
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception) { return (-1, ""); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-2, $"timed out after {timeout.TotalSeconds:F0} s");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }
}
