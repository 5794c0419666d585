using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Curation;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Tests.Ledger;

[Trait("Tier", "unit")]
public sealed class LedgerActorTests : TestKit, IDisposable
{
    private readonly ScratchFolder _dir = new("fc-ledger-actor");

    public LedgerActorTests() : base("akka.loglevel = WARNING") { }

    private static readonly RegisterFaceSet FaceSet = new(["ann", "ben"],
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
        Enumerable.Range(1, 12).Select(i => $"{(i <= 6 ? "ann" : "ben")}/{i}.png").ToArray(), "h");

    /// <summary>A policy that acts at once: no warm-up, one outlier cycle is enough, no re-feed, caps wide open.</summary>
    private static readonly CurationPolicyOptions Eager = CurationPolicyOptions.Default with
    {
        WarmupSteps = 0, MinObservations = 2, PersistenceHits = 1, PersistenceWindow = 1, RefeedWeight = 1,
        MinReferenceSamples = 3, MaxPruneFraction = 0.5, MaxPruneFractionPerCycle = 0.5,
    };

    private IActorRef Ledger(CurationPolicyOptions? policy = null) =>
        Sys.ActorOf(LedgerActor.Props(new LedgerOptions(_dir.Path) { FaceSet = FaceSet, Policy = policy ?? Eager, Flush = new FlushPolicy(IntervalMs: 20) }));

    private static IEnumerable<LossReport> Steps(long from, long to) =>
        Enumerable.Range((int)from, (int)(to - from)).SelectMany(step => new[]
        {
            // Sample 3 is five times worse than everyone else; every sample is seen every step.
            new LossReport("w1", 0, step, 2, [1, 2, 3, 4, 5, 6], [1, 1.1f, 5, 0.9f, 1, 1.05f]),
            new LossReport("w2", 0, step, 2, [7, 8, 9, 10, 11, 12], [1, 0.95f, 1.1f, 1, 0.9f, 1]),
        });

    [Fact]
    public void Reports_go_in_and_a_cycle_close_answers_with_directives()
    {
        var ledger = Ledger();
        foreach (var r in Steps(0, 10)) ledger.Tell(r);
        ledger.Tell(new CloseCycle(0, 10), TestActor);
        var directives = ExpectMsg<CurationDirectives>();
        Assert.Equal(0, directives.Cycle);
        Assert.Equal([3], directives.Prune);
        Assert.Empty(directives.Refeed);

        ledger.Tell(GetLedgerStats.Instance, TestActor);
        var stats = ExpectMsg<LedgerStats>();
        Assert.Equal((12, 120L, 10L, 1L, 1), (stats.Samples, stats.Observations, stats.Steps, stats.Cycles, stats.Quarantined));

        ledger.Tell(new GetWorstSamples(3, true), TestActor);
        var worst = ExpectMsg<WorstSamples>();
        Assert.Equal(3, worst.Samples[0].SampleId);
        Assert.Equal("quarantined", worst.Samples[0].Status);
        Assert.Equal(12, worst.Ranked);

        ledger.Tell(new GetSampleHistory(3), TestActor);
        var history = ExpectMsg<SampleHistory>();
        var cycle = Assert.Single(history.Cycles);
        Assert.True(cycle.HighOutlier);
        Assert.Equal(10, cycle.Observations);
        Assert.Equal("quarantined", Assert.Single(history.Changes).To);

        ledger.Tell(GetLedgerIdentities.Instance, TestActor);
        Assert.Equal([5, 6], ExpectMsg<LedgerIdentities>().Identities.Select(i => i.Active));
        ledger.Tell(new GetQuarantine(false), TestActor);
        Assert.Equal(3, Assert.Single(ExpectMsg<QuarantineList>().Entries).SampleId);
        ledger.Tell(GetReviewQueue.Instance, TestActor);
        Assert.Empty(ExpectMsg<ReviewQueue>().Samples);
        ledger.Tell(new GetLossCurves(4), TestActor);
        var curves = ExpectMsg<LossCurves>();
        Assert.True(curves.Global.Steps.Length is > 0 and <= 4);
        Assert.Equal(120, curves.Global.Records.Sum());
        Assert.Equal(["worker:w1", "worker:w2"], curves.Workers.Select(w => w.Name));
        Assert.Equal(2, curves.Identities.Length);
    }

    [Fact]
    public void Restore_and_review_work_and_unknown_ids_get_an_error_naming_them_not_silence()
    {
        var ledger = Ledger();
        foreach (var r in Steps(0, 10)) ledger.Tell(r);
        ledger.Tell(new CloseCycle(0, 10), TestActor);
        ExpectMsg<CurationDirectives>();

        ledger.Tell(new RestoreSamples([3, 4040], "check"), TestActor);
        var error = ExpectMsg<LedgerError>();
        Assert.Equal("RestoreSamples", error.Request);
        Assert.Contains("4040", error.Message);
        Assert.Equal([4040], error.UnknownSampleIds);

        ledger.Tell(new ReviewDecision(777, true), TestActor);
        Assert.Contains("777", ExpectMsg<LedgerError>().Message);
        ledger.Tell(new GetSampleHistory(888), TestActor);
        Assert.Contains("888", ExpectMsg<LedgerError>().Message);

        ledger.Tell(new RestoreSamples([3], "check"), TestActor);
        Assert.Equal([3], ExpectMsg<SamplesRestored>().SampleIds);
        ledger.Tell(new ReviewDecision(8, true), TestActor);
        Assert.Equal("quarantined", ExpectMsg<ReviewRecorded>().Status);

        foreach (var r in Steps(10, 20)) ledger.Tell(r);
        ledger.Tell(new CloseCycle(1, 20), TestActor);
        var d = ExpectMsg<CurationDirectives>();
        Assert.Equal([3], d.Restored);
        Assert.Equal([8], d.Prune); // 3 stays in: restored samples are never pruned again automatically
    }

    [Fact]
    public void Review_mode_queues_would_be_prunes_for_a_person()
    {
        var ledger = Ledger(Eager with { Mode = CurationMode.Review });
        foreach (var r in Steps(0, 10)) ledger.Tell(r);
        ledger.Tell(new CloseCycle(0, 10), TestActor);
        var d = ExpectMsg<CurationDirectives>();
        Assert.Empty(d.Prune);
        Assert.Equal([3], d.AwaitingReview);
        ledger.Tell(GetReviewQueue.Instance, TestActor);
        var queued = Assert.Single(ExpectMsg<ReviewQueue>().Samples);
        Assert.StartsWith("would prune", queued.Reason);
        ledger.Tell(new ReviewDecision(3, true), TestActor);
        ExpectMsg<ReviewRecorded>();
        ledger.Tell(new CloseCycle(1, 10), TestActor);
        Assert.Equal([3], ExpectMsg<CurationDirectives>().Prune);
    }

    [Fact]
    public void Off_mode_keeps_the_ledger_and_sends_empty_directives()
    {
        var ledger = Ledger(Eager with { Mode = CurationMode.Off });
        foreach (var r in Steps(0, 10)) ledger.Tell(r);
        ledger.Tell(new CloseCycle(0, 10), TestActor);
        var d = ExpectMsg<CurationDirectives>();
        Assert.Empty(d.Prune.Concat(d.Refeed).Concat(d.Flagged).Concat(d.AwaitingReview).Concat(d.Restored));
        ledger.Tell(new GetSampleHistory(3), TestActor);
        var history = ExpectMsg<SampleHistory>();
        Assert.Equal("active", history.Sample.Status);
        Assert.True(Assert.Single(history.Cycles).HighOutlier); // seen and recorded, not acted on
        ledger.Tell(GetLedgerStats.Instance, TestActor);
        Assert.Equal("off", ExpectMsg<LedgerStats>().Mode);
    }

    [Fact]
    public void Stopping_the_actor_writes_everything_and_a_new_one_continues_the_ledger()
    {
        var ledger = Ledger();
        foreach (var r in Steps(0, 5)) ledger.Tell(r);
        ledger.Tell(FlushLedger.Instance, TestActor);
        Assert.Equal(0, ExpectMsg<LedgerFlushed>().UnflushedRecords);
        foreach (var r in Steps(5, 7)) ledger.Tell(r);
        Watch(ledger);
        Sys.Stop(ledger);
        ExpectTerminated(ledger);

        var again = Ledger();
        again.Tell(GetLedgerStats.Instance, TestActor);
        var stats = ExpectMsg<LedgerStats>();
        Assert.Equal(84, stats.Observations);
        Assert.Equal(14, stats.RawReports);
        Assert.Equal(0, stats.UnflushedRecords);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // stops the actors (closing ledger.db) before the folder goes
        if (disposing) _dir.Dispose();
    }
}
