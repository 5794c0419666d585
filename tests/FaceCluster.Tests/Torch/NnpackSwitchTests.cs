using FaceCluster.Common.IO;
using FaceCluster.Common.Torch;
using FaceCluster.Synth;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.Torch;

/// <summary>
/// libtorch 2.10 logs "Could not initialize NNPACK! Reason: Unsupported hardware." at every convolution of a batch of
/// 16 or more on CPUs NNPACK does not recognise (this project's 2-core AMD EPYC hosts among them: 860 lines in a
/// 30-second demo). <see cref="NnpackSwitch"/> turns NNPACK off there, as torch.backends.nnpack.set_flags(False) does.
/// </summary>
[Trait("Tier", "integration")]
public sealed class NnpackSwitchTests
{
    [Fact]
    public void Loading_libtorch_finds_NNPACK_s_switch_and_leaves_it_off_where_NNPACK_cannot_initialise()
    {
        TorchRuntime.EnsureLoaded();
        if (!OperatingSystem.IsLinux()) return;
        var first = NnpackSwitch.State;
        Assert.NotNull(first); // the loaded libtorch_cpu's symbols were found and called
        var again = NnpackSwitch.DisableWhereUnsupported();
        // Where it was turned off, it stays off; where NNPACK works, it is left on.
        Assert.Equal(first == NnpackState.Available ? NnpackState.Available : NnpackState.Off, again);
    }

    [Fact]
    public async Task A_training_run_with_batches_of_16_writes_NNPACK_s_warning_at_most_once()
    {
        using var temp = new ScratchFolder("fc-nnpack");
        string data = temp.Combine("faces");
        SynthGenerator.Generate(new SynthOptions { OutDir = data, Identities = 2, PerIdentity = 12, Size = 32, Seed = 3 });
        using var train = new FaceClusterProcess("train", temp.Path,
            ["train", "--data", data, "--run", temp.Combine("run"), "--workers", "1", "--cycles", "1", "--steps-per-cycle", "4", "--batch", "16"]);
        Assert.True(await train.WaitForExitAsync(TimeSpan.FromSeconds(180)) == 0, train.Output);
        var warnings = train.Output.Split('\n').Where(l => l.Contains("NNPACK", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count <= 1, $"{warnings.Count} NNPACK lines:\n{string.Join('\n', warnings.Take(5))}");
    }
}
