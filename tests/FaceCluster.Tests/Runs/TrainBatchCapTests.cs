using FaceCluster.Cli;
using FaceCluster.Common.Errors;
using FaceCluster.Common.IO;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.Runs;

/// <summary>
/// `train` runs its workers in one process, so no worker can join later: a global batch that its workers' --max-batch
/// cannot hold is refused at once, naming the values, instead of waiting for ever for more workers. A negative
/// --max-batch is refused by name. Nothing is written to the run folder.
/// </summary>
[Trait("Tier", "unit")]
public sealed class TrainBatchCapTests
{
    [Theory]
    [InlineData("2", "8", "32", "--batch 32 does not fit: 2 worker(s) of --max-batch 8 hold 16 samples a step")]
    [InlineData("1", "-1", "32", "--max-batch must be 0 (device default) or more, got -1")]
    public async Task A_batch_the_workers_cannot_hold_is_refused_at_once_by_its_values(string workers, string maxBatch, string batch, string message)
    {
        using var temp = new ScratchFolder("fc-train-cap");
        string run = temp.Combine("run");
        var stderr = new StringWriter();
        var train = Task.Run(() => CliApp.Run(["train", "--data", RealFaceSets.Cmu, "--run", run, "--workers", workers, "--max-batch", maxBatch, "--batch", batch], new StringWriter(), stderr));
        var first = await Task.WhenAny(train, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(first == train, "train did not return within 60 s: it waits instead of refusing");
        Assert.Equal(ExitCodes.UsageError, await train);
        Assert.Contains(message, stderr.ToString());
        Assert.False(Directory.Exists(run) && Directory.EnumerateFileSystemEntries(run).Any(), "the refused run wrote to its run folder");
    }
}
