using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Cli.Offline.QualityScreening;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Tests.Models;

[Trait("Tier", "unit")]
public class CurateLedgerTests
{
    [Fact]
    public void Ledger_seeds_are_the_quarantined_faces_as_bad_and_consistently_easy_ones_as_good()
    {
        using var root = new ScratchFolder("fc-curate-ledger");
        string data = root.Combine("data"), run = root.Combine("run");
        Directory.CreateDirectory(run);
        var synthetic = new SyntheticRun(totalSteps: 2000);
        byte[] png = TestImages.FaceBytes(".png", 1, 16, 16);
        foreach (var path in synthetic.FaceSet.RelativePaths) root.Write("data/" + path, png);
        using (var engine = LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = synthetic.FaceSet }))
            synthetic.Drive(engine, 0, 2000);

        var seeds = LedgerSeeds.Read(run, data);
        var badPaths = synthetic.Bad.Select(id => Path.GetFullPath(Path.Combine(data, synthetic.FaceSet.RelativePaths[synthetic.IndexOf[id]]))).ToHashSet();
        Assert.NotEmpty(seeds.Bad);
        Assert.All(seeds.Bad, p => Assert.Contains(p, badPaths));
        Assert.NotEmpty(seeds.Good);
        Assert.DoesNotContain(seeds.Good, badPaths.Contains);
        Assert.Equal(0, seeds.Missing);
        Assert.True(File.Exists(Path.Combine(run, "ledger.db")));
    }
}
