using FaceCluster.Common.FaceSet;
using FaceCluster.Coordinator.Ledger.Curation;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Runs;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "unit")]
public sealed class RunSetupTests
{
    [Fact]
    public void Accumulation_is_refused_for_zero_micro_batches_and_for_the_triplet_loss_which_mines_the_whole_batch()
    {
        var options = new TrainRunOptions { DataDir = "faces", RunDir = "run" };
        Assert.Contains("--accumulate must be at least 1, got 0", Assert.Throws<FaceClusterException>(() => (options with { Accumulate = 0 }).Validate()).Message);
        var triplet = Assert.Throws<FaceClusterException>(() => (options with { Accumulate = 2, Model = FaceCluster.Common.Models.ModelKind.Triplet }).Validate());
        Assert.Contains("--accumulate", triplet.Message);
        (options with { Accumulate = 4 }).Validate();
    }

    [Fact]
    public void Moving_pruned_files_never_takes_an_identity_below_the_scan_s_minimum_so_a_resume_keeps_its_labels()
    {
        var options = new TrainRunOptions
        {
            DataDir = "faces", RunDir = "run", Scan = ScanOptions.Default with { MinImages = 5 },
            Curation = CurationPolicyOptions.Default with { MinImagesPerIdentity = 2 },
        };
        Assert.Equal(5, RunSetup.CurationFor(options with { PruneAction = QuarantineAction.Move }).MinImagesPerIdentity);
        // Excluding leaves the files where they are: a rescan still counts them, the policy's own floor stands.
        Assert.Equal(2, RunSetup.CurationFor(options with { PruneAction = QuarantineAction.Exclude }).MinImagesPerIdentity);
        var higher = options with { PruneAction = QuarantineAction.Move, Curation = options.Curation with { MinImagesPerIdentity = 8 } };
        Assert.Equal(8, RunSetup.CurationFor(higher).MinImagesPerIdentity);
    }
}
