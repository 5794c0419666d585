using FaceCluster.Common.IO;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.Runs;

/// <summary>`--update-on`: a run whose workers update on the device path (on the CPU), and a wrong placement refused by name.</summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public sealed class UpdatePlacementRunTests
{
    [Fact]
    public async Task A_run_with_the_update_on_the_device_trains_to_the_end_and_each_worker_says_where_it_updates()
    {
        using var temp = new ScratchFolder("fc-update-on");
        string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 6);
        using var run = new FaceClusterProcess("train", temp.Path, "train", "--data", faces, "--run", temp.Combine("run"), "--workers", "2",
            "--cycles", "2", "--steps-per-cycle", "3", "--batch", "8", "--update-on", "device", "--log-level", "information");
        Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(180)));
        Assert.Contains("Done: step 6", run.Output);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(run.Output, @"update on the device, host buffers pageable \(cpu device\)").Count);

        using var wrong = new FaceClusterProcess("train", temp.Path, "train", "--data", faces, "--run", temp.Combine("run2"), "--update-on", "gpu");
        Assert.NotEqual(0, await wrong.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--update-on 'gpu' is not a placement: use auto, host or device", wrong.Output);
    }
}
