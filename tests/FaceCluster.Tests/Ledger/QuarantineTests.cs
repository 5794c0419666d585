using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Quarantine;
using FaceCluster.Coordinator.Ledger.Store;
using System.Security.Cryptography;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Tests.Ledger;

[Trait("Tier", "unit")]
public class QuarantineTests
{
    private static readonly string[] Files = ["alice/a1.png", "alice/a2.jpg", "alice/a3.png", "bob/b1.png", "bob/b2.png", "bob/b3.png"];

    private static (ScratchFolder Root, string Data, string Run, RegisterFaceSet FaceSet) Setup()
    {
        var root = new ScratchFolder("fc-quarantine");
        string data = root.Combine("data");
        for (int i = 0; i < Files.Length; i++) root.Write("data/" + Files[i], RandomBytes(1000 + i, i));
        var faceSet = new RegisterFaceSet(["alice", "bob"], [10, 11, 12, 20, 21, 22], [0, 0, 0, 1, 1, 1], Files, "h");
        return (root, data, root.Combine("run"), faceSet);
    }

    private static byte[] RandomBytes(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string[] AllFiles(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order().ToArray() : [];

    [Fact]
    public void Move_puts_the_file_under_the_run_never_deletes_it_and_restore_puts_it_back()
    {
        var (root, data, run, faceSet) = Setup();
        using (root)
        {
            byte[] original = File.ReadAllBytes(Path.Combine(data, "alice", "a2.jpg"));
            using var e = LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet, PruneAction = QuarantineAction.Move });
            e.Ingest(new LossReport("w1", 0, 41, 1, [10, 11, 12, 20], [1, 2, 3, 4]));
            e.CloseCycle(new CloseCycle(0, 42));

            var recorded = Assert.IsType<ReviewRecorded>(e.Handle(new ReviewDecision(11, true)));
            string expected = Path.Combine(run, "quarantine", "alice", "1-41_a2.jpg"); // cycle 1 (the open one), step 41 (the newest)
            Assert.Equal(expected, recorded.CurrentPath);
            Assert.False(File.Exists(Path.Combine(data, "alice", "a2.jpg")));
            Assert.Equal(original, File.ReadAllBytes(expected));
            Assert.Equal(Files.Length, AllFiles(data).Length + AllFiles(Path.Combine(run, "quarantine")).Length); // moved, not deleted

            var entry = Assert.Single(Assert.IsType<QuarantineList>(e.Handle(new GetQuarantine(false))).Entries);
            Assert.Equal((11, "alice", "alice/a2.jpg", "move", expected), (entry.SampleId, entry.Identity, entry.Path, entry.Action, entry.CurrentPath));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(original)), entry.Sha256);
            Assert.Equal([11], e.CloseCycle(new CloseCycle(1, 80)).Prune);

            var restored = Assert.IsType<SamplesRestored>(e.Handle(new RestoreSamples([11], "fine after all")));
            Assert.Equal([11], restored.SampleIds);
            Assert.Equal(1, restored.FilesMovedBack);
            Assert.Equal(original, File.ReadAllBytes(Path.Combine(data, "alice", "a2.jpg")));
            Assert.False(File.Exists(expected));
            Assert.Empty(AllFiles(Path.Combine(run, "quarantine")));
            Assert.Empty(Assert.IsType<QuarantineList>(e.Handle(new GetQuarantine(false))).Entries);
            var history = Assert.Single(Assert.IsType<QuarantineList>(e.Handle(new GetQuarantine(true))).Entries);
            Assert.True(history.Restored);
            Assert.Equal(Path.Combine(data, "alice", "a2.jpg"), history.CurrentPath);
            Assert.Equal([11], e.CloseCycle(new CloseCycle(2, 120)).Restored);
            Assert.Equal("restored", Assert.IsType<SampleHistory>(e.Handle(new GetSampleHistory(11))).Sample.Status);
        }
    }

    [Fact]
    public void Across_file_systems_the_file_is_copied_verified_and_only_then_removed()
    {
        var (root, data, run, _) = Setup();
        using (root)
        {
            using var store = LedgerStore.Open(run);
            var manager = new QuarantineManager(store.Writer, run, data, QuarantineAction.Move) { ForceCopy = true };
            byte[] original = File.ReadAllBytes(Path.Combine(data, "bob", "b3.png"));
            var record = manager.Quarantine(5, 22, "bob", "bob/b3.png", 7, 300, "test", DateTime.UtcNow);
            Assert.Equal(QuarantineAction.Move, record.Action);
            Assert.Equal(Path.Combine(run, "quarantine", "bob", "7-300_b3.png"), record.CurrentPath);
            Assert.Equal(original, File.ReadAllBytes(record.CurrentPath));
            Assert.False(File.Exists(record.OriginalPath));
            Assert.Empty(Directory.GetFiles(Path.Combine(run, "quarantine", "bob"), "*.tmp")); // no temporary left behind
            var back = manager.Restore(record, 8, DateTime.UtcNow);
            Assert.Equal(record.OriginalPath, back.CurrentPath);
            Assert.Equal(original, File.ReadAllBytes(record.OriginalPath));
            Assert.False(File.Exists(record.CurrentPath));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_move_whose_record_never_committed_is_undone_at_the_next_start(bool acrossFileSystems)
    {
        var (root, data, run, faceSet) = Setup();
        using (root)
        {
            using (LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet, PruneAction = QuarantineAction.Move })) { }
            string file = Path.Combine(data, "bob", "b3.png");
            byte[] original = File.ReadAllBytes(file);
            QuarantineRecord moved;
            using (var store = LedgerStore.Open(run))
            {
                var manager = new QuarantineManager(store.Writer, run, data, QuarantineAction.Move) { ForceCopy = acrossFileSystems };
                moved = manager.Quarantine(5, 22, "bob", "bob/b3.png", 7, 300, "test", DateTime.UtcNow);
                Assert.True(File.Exists(moved.CurrentPath));
                Assert.False(File.Exists(file));
                // The journal entry is on disk before the record is flushed...
                Assert.Single(store.Reader.ReadOpenMoves());
                // ...and the process dies here (SIGKILL): the buffered record is never written.
            }

            using var e = LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet, PruneAction = QuarantineAction.Move });
            Assert.Equal(original, File.ReadAllBytes(file)); // the file is back where the committed ledger has it
            Assert.False(File.Exists(moved.CurrentPath));
            Assert.Empty(Assert.IsType<QuarantineList>(e.Handle(new GetQuarantine(true))).Entries);
            Assert.Equal("active", Assert.IsType<SampleHistory>(e.Handle(new GetSampleHistory(22))).Sample.Status);
            Assert.Equal(Files.Length, AllFiles(data).Length);

            // A quarantine that is flushed keeps its file moved across a restart, and closes its journal entry.
            var recorded = Assert.IsType<ReviewRecorded>(e.Handle(new ReviewDecision(22, true)));
            e.Dispose();
            using var again = LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet, PruneAction = QuarantineAction.Move });
            Assert.True(File.Exists(recorded.CurrentPath));
            Assert.Equal("quarantined", Assert.IsType<SampleHistory>(again.Handle(new GetSampleHistory(22))).Sample.Status);
        }
    }

    [Fact]
    public void A_copy_interrupted_before_its_rename_leaves_the_original_and_no_partial_file()
    {
        var (root, data, run, faceSet) = Setup();
        using (root)
        {
            using (LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet, PruneAction = QuarantineAction.Move })) { }
            string file = Path.Combine(data, "alice", "a1.png");
            byte[] original = File.ReadAllBytes(file);
            string target = Path.Combine(run, "quarantine", "alice", "3-90_a1.png");
            using (var store = LedgerStore.Open(run))
            {
                store.Writer.JournalMove(1, file, target, Convert.ToHexStringLower(SHA256.HashData(original)));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.0123.tmp"), original[..100]); // killed mid-copy
            }
            using (LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet, PruneAction = QuarantineAction.Move }))
            {
                Assert.Equal(original, File.ReadAllBytes(file));
                Assert.Empty(AllFiles(Path.Combine(run, "quarantine")));
            }
            using var reopened = LedgerStore.Open(run);
            Assert.Empty(reopened.Reader.ReadOpenMoves());
        }
    }

    [Fact]
    public void Restore_is_refused_when_another_file_now_occupies_the_original_path()
    {
        var (root, data, run, faceSet) = Setup();
        using (root)
        {
            using var e = LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet, PruneAction = QuarantineAction.Move });
            var recorded = Assert.IsType<ReviewRecorded>(e.Handle(new ReviewDecision(20, true)));
            string originalPath = Path.Combine(data, "bob", "b1.png");
            byte[] newcomer = RandomBytes(77, 99);
            File.WriteAllBytes(originalPath, newcomer);

            var result = Assert.IsType<SamplesRestored>(e.Handle(new RestoreSamples([20, 21], "")));
            Assert.Equal([21], result.SampleIds); // 21 was never quarantined: simply marked restored
            var failure = Assert.Single(result.Failures);
            Assert.Equal(20, failure.SampleId);
            Assert.Contains(originalPath, failure.Reason);
            Assert.Contains("occupied", failure.Reason);
            Assert.Equal(newcomer, File.ReadAllBytes(originalPath)); // the newcomer is untouched
            Assert.True(File.Exists(recorded.CurrentPath)); // and the quarantined file stays where it is
            Assert.Equal("quarantined", Assert.IsType<SampleHistory>(e.Handle(new GetSampleHistory(20))).Sample.Status);

            var error = Assert.IsType<LedgerError>(e.Handle(new ReviewDecision(20, false)));
            Assert.Contains("occupied", error.Message);
        }
    }

    [Fact]
    public void Exclude_leaves_the_file_where_it_is()
    {
        var (root, data, run, faceSet) = Setup();
        using (root)
        {
            var before = AllFiles(data);
            using var e = LedgerEngine.Open(new LedgerOptions(run, data) { FaceSet = faceSet });
            var recorded = Assert.IsType<ReviewRecorded>(e.Handle(new ReviewDecision(12, true)));
            Assert.Equal(Path.Combine(data, "alice", "a3.png"), recorded.CurrentPath);
            Assert.Equal(before, AllFiles(data));
            Assert.False(Directory.Exists(Path.Combine(run, "quarantine")));
            Assert.Equal("exclude", Assert.Single(Assert.IsType<QuarantineList>(e.Handle(new GetQuarantine(false))).Entries).Action);
        }
    }

    [Fact]
    public void A_move_without_a_data_root_is_refused_up_front()
    {
        using var root = new ScratchFolder("fc-quarantine");
        var error = Assert.Throws<FaceClusterException>(() => LedgerEngine.Open(new LedgerOptions(root.Path) { PruneAction = QuarantineAction.Move }));
        Assert.Contains("data root", error.Message);
    }
}
