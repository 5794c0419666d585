using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Tests.Support;

namespace FaceCluster.Tests.Ledger;

/// <summary>
/// A ledger whose disk fills up pauses its writes instead of failing: every record stays in memory, the pause is
/// visible, and once space returns the held records are written. Nothing is lost, on a real full tmpfs.
/// </summary>
[Trait("Tier", "integration")]
public sealed class LedgerDiskFullTests
{
    [MountFact]
    public void A_full_disk_pauses_the_ledger_and_freeing_space_resumes_it_with_nothing_lost()
    {
        using var temp = new ScratchFolder("fc-ledger-full");
        using var disk = new TmpfsMount(temp.Combine("disk"), 6L << 20);
        string run = Path.Combine(disk.Path, "run");
        int samples = 2000;
        var faceSet = new RegisterFaceSet(["a", "b"], Enumerable.Range(0, samples).ToArray(), Enumerable.Range(0, samples).Select(i => i % 2).ToArray(),
            Enumerable.Range(0, samples).Select(i => $"{(i % 2 == 0 ? "a" : "b")}/{i}.png").ToArray(), "h");
        var options = new LedgerOptions(run) { FaceSet = faceSet, Flush = new FlushPolicy(IntervalMs: 10, SnapshotIntervalMs: 10) };
        var random = new Random(5);
        LossReport Report(long step) => new("w1", 0, step, 1, Enumerable.Range(0, 256).Select(_ => random.Next(samples)).ToArray(),
            Enumerable.Range(0, 256).Select(_ => (float)random.NextDouble()).ToArray());

        long written = 0;
        string filler = Path.Combine(disk.Path, "filler");
        using (var engine = LedgerEngine.Open(options))
        {
            for (long step = 0; step < 20; step++) { engine.Ingest(Report(step)); written += 256; }
            engine.Flush();
            Assert.Null(engine.WritesPausedBecause);

            // Fill the disk to the last byte, then keep training.
            using (var fill = new FileStream(filler, FileMode.Create))
            {
                var block = new byte[64 * 1024];
                try { while (true) fill.Write(block); }
                catch (IOException) { }
                try { fill.Flush(); } catch (IOException) { }
            }
            for (long step = 20; step < 60; step++) { engine.Ingest(Report(step)); written += 256; }
            engine.Flush(); // fails: paused, not thrown
            engine.Snapshot();
            Assert.NotNull(engine.WritesPausedBecause);
            Assert.Contains("full", engine.WritesPausedBecause);
            Assert.Equal(40 * 256, engine.UnflushedRecords);
            Assert.Equal(written, engine.Stats().Observations);

            // Space returns: the flush clock's next retry writes everything held.
            File.Delete(filler);
            Thread.Sleep(LedgerEngine.PausedRetry + TimeSpan.FromMilliseconds(100));
            engine.Tick();
            Assert.Null(engine.WritesPausedBecause);
            Assert.Equal(0, engine.UnflushedRecords);
        }

        using var reopened = LedgerEngine.OpenReadOnly(run);
        Assert.Equal(written, reopened.Stats().Observations);
        Assert.Equal(60, reopened.Store.Reader.ReadReports().Count());
    }
}
