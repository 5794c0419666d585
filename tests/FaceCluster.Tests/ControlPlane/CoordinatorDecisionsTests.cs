using System.Collections.Immutable;
using Akka.Actor;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Coordinator.ControlPlane;
using FaceCluster.Coordinator.Ledger.Protocol;

namespace FaceCluster.Tests.ControlPlane;

/// <summary>The coordinator's decisions as functions over its state record: no actor system, no messages.</summary>
[Trait("Tier", "unit")]
public class CoordinatorDecisionsTests
{
    private static readonly RunSpec Run = new("run-1", "Autoencoder", "tiny", ["a", "b"], "hash", "/data", "", 5e-4, 0, 1, 10, true);

    private static CoordinatorSettings Settings(int minWorkers = 2, ResumePoint? resume = null) =>
        new(Run, GlobalBatch: 8, TotalSteps: 40, MinWorkers: minWorkers,
            FailureGrace: TimeSpan.FromSeconds(1), LedgerProps: null, Checkpoints: null, Resume: resume, Observer: null);

    private static WorkerEntry Worker(string id, double samplesPerSecond = 100, WorkerLife life = WorkerLife.Ready, long replicaStep = 0, string checksum = "c") =>
        new(id, ActorRefs.Nobody, "host", id + ":1", new DeviceReport("cpu", 0, "AMD", "EPYC", 0, samplesPerSecond, 64, ""), life, replicaStep, checksum, 0, samplesPerSecond, -1);

    private static CoordinatorState With(CoordinatorState s, params WorkerEntry[] workers) =>
        workers.Aggregate(s, (state, w) => state.WithWorker(w));

    [Fact]
    public void The_first_plan_waits_until_the_minimum_of_workers_is_ready()
    {
        var settings = Settings(minWorkers: 2);
        var notes = new List<Note>();
        var (state, next) = CoordinatorDecisions.NextPlan(With(CoordinatorState.Initial(settings), Worker("w1")), settings, notes);
        Assert.Equal(new PlanStep.Wait("waiting for workers (1/2)"), next);
        Assert.Equal(CoordinatorPhase.WaitingForWorkers, state.Phase);
        (_, next) = CoordinatorDecisions.NextPlan(With(CoordinatorState.Initial(settings), Worker("w1"), Worker("w2")), settings, notes);
        Assert.Equal(new PlanStep.Plans("", ""), next);
    }

    [Fact]
    public void A_replica_behind_the_run_resyncs_from_an_in_sync_one_which_publishes_its_state_first()
    {
        var settings = Settings();
        var s = With(CoordinatorState.Initial(settings), Worker("a", replicaStep: 10), Worker("b", replicaStep: 10), Worker("c", replicaStep: 4)) with { Step = 10, Generation = 3 };
        var (state, next) = CoordinatorDecisions.NextPlan(s, settings, new List<Note>());
        Assert.Equal("a", Assert.IsType<PlanStep.AwaitState>(next).Source.Id);
        Assert.Equal((CoordinatorPhase.AwaitingState, "a"), (state.Phase, state.AwaitingStateFrom));
        (_, next) = CoordinatorDecisions.NextPlan(s with { Published = s.Published.SetItem("a", 10) }, settings, new List<Note>());
        Assert.Equal(new PlanStep.Plans("a:1", "c"), next);
    }

    [Fact]
    public void The_majority_checksum_decides_which_replicas_are_in_sync_and_a_tie_goes_to_the_ordinally_first()
    {
        Assert.Equal("x", CoordinatorState.MajorityChecksum(["y", "x", "x"]));
        Assert.Equal("a", CoordinatorState.MajorityChecksum(["b", "a"]));
        var settings = Settings();
        var s = With(CoordinatorState.Initial(settings), Worker("w1", checksum: "x"), Worker("w2", checksum: "y"), Worker("w3", checksum: "x"));
        Assert.Equal(new[] { "w1", "w3" }, s.InSyncWorkers().Select(w => w.Id));
        var segment = SegmentState.Start(1, 0, 0, 10, ["w1", "w2", "w3"]) with
        {
            Finished = ImmutableDictionary<string, SegmentFinished>.Empty
                .Add("w1", Finished("w1", "x")).Add("w2", Finished("w2", "y")).Add("w3", Finished("w3", "x")),
        };
        Assert.Equal(new[] { "w2" }, CoordinatorDecisions.DivergentReplicas(segment));
    }

    private static SegmentFinished Finished(string id, string checksum, long step = 10) => new(id, 1, 0, step, checksum, 100, 10, 0, 1, 0);

    [Fact]
    public void A_plan_splits_the_batch_by_measured_speed_and_makes_every_member_active()
    {
        var settings = Settings();
        var s = With(CoordinatorState.Initial(settings), Worker("fast", 300), Worker("slow", 100));
        var (state, plans) = CoordinatorDecisions.PlanSegment(s, settings, "", "", new List<Note>());
        Assert.NotNull(plans);
        Assert.Equal(new[] { 6, 2 }, plans!.Select(p => p.Plan.LocalBatches[p.Plan.Rank]));
        Assert.All(plans, p => Assert.Equal((0L, 10L, 1L), (p.Plan.FromStep, p.Plan.ToStep, p.Plan.Generation)));
        Assert.Equal(CoordinatorPhase.Running, state.Phase);
        Assert.All(state.Workers.Values, w => Assert.Equal(WorkerLife.Active, w.Life));
        Assert.Equal(new[] { "fast", "slow" }, state.Segment!.Members);
    }

    [Fact]
    public void A_batch_the_workers_cannot_hold_is_not_planned_and_the_coordinator_waits_saying_why()
    {
        var settings = Settings() with { GlobalBatch = 1 };
        var notes = new List<Note>();
        var (state, plans) = CoordinatorDecisions.PlanSegment(With(CoordinatorState.Initial(settings), Worker("w1"), Worker("w2")), settings, "", "", notes);
        Assert.Null(plans);
        Assert.Equal(CoordinatorPhase.WaitingForWorkers, state.Phase);
        Assert.Contains(notes, n => n.Kind == NoteKind.Show && n.Text.Contains("--batch 1"));
    }

    [Fact]
    public void A_segment_ends_the_cycle_only_when_every_member_finished_its_last_step_cleanly()
    {
        var settings = Settings();
        var s = With(CoordinatorState.Initial(settings), Worker("w1", life: WorkerLife.Active), Worker("w2", life: WorkerLife.Active)) with
        {
            Segment = SegmentState.Start(1, 0, 0, 10, ["w1", "w2"]),
        };
        s = CoordinatorDecisions.SegmentFinishedBy(CoordinatorDecisions.ReplicaAt(s, "w1", 10, "x", null), Finished("w1", "x"));
        Assert.Equal(SegmentEnd.Open, CoordinatorDecisions.SegmentOver(s, settings).End);
        var clean = CoordinatorDecisions.SegmentFinishedBy(CoordinatorDecisions.ReplicaAt(s, "w2", 10, "x", null), Finished("w2", "x"));
        var (state, end, segment) = CoordinatorDecisions.SegmentOver(clean, settings);
        Assert.Equal((SegmentEnd.CloseCycle, 10L), (end, state.Step));
        Assert.Null(state.Segment);
        Assert.NotNull(segment);
        var lost = CoordinatorDecisions.Lost(s, "w2");
        Assert.Equal(SegmentEnd.Replan, CoordinatorDecisions.SegmentOver(lost, settings).End);
    }

    [Fact]
    public void Members_stop_two_steps_past_the_newest_step_reached_unless_the_segment_ends_sooner()
    {
        var settings = Settings();
        var s = With(CoordinatorState.Initial(settings), Worker("w1") with { LastStep = 3 }, Worker("w2") with { LastStep = 4 }) with
        {
            Segment = SegmentState.Start(1, 0, 0, 10, ["w1", "w2"]),
        };
        var (state, stopAt) = CoordinatorDecisions.Boundary(s);
        Assert.Equal(6, stopAt);
        Assert.True(state.Segment!.StopRequested);
        Assert.Null(CoordinatorDecisions.Boundary(state).StopAt); // asked once
        Assert.Null(CoordinatorDecisions.Boundary(s with { Segment = s.Segment! with { ToStep = 7 } }).StopAt);
    }

    [Fact]
    public void Directives_add_the_pruned_remove_the_restored_and_replace_the_re_fed()
    {
        var s = CoordinatorState.Initial(Settings()) with { Excluded = [1, 2], Refeed = ImmutableDictionary<int, float>.Empty.Add(9, 2f) };
        var after = CoordinatorDecisions.ApplyDirectives(s, new CurationDirectives(3, [3], [5], [4f], [], [], [2]));
        Assert.Equal(new[] { 1, 3 }, after.Excluded.Order());
        Assert.Equal(4f, Assert.Single(after.Refeed, p => p.Key == 5).Value);
        Assert.DoesNotContain(9, after.Refeed.Keys);
    }

    [Fact]
    public void A_stop_ends_the_run_with_its_reason_and_a_checkpoint_only_when_the_step_is_not_on_disk()
    {
        var settings = Settings() with { Checkpoints = new NoCheckpoints() };
        var s = CoordinatorState.Initial(settings) with { Step = 12, StopReason = "stopped by a signal" };
        Assert.IsType<PlanStep.End>(CoordinatorDecisions.NextPlan(s, settings, new List<Note>()).Next);
        Assert.Equal("stopped by a signal", s.FinishReason);
        var (state, checkpoint) = CoordinatorDecisions.EndRun(s, settings);
        Assert.True(checkpoint);
        Assert.Equal(CoordinatorPhase.Finishing, state.Phase);
        Assert.False(CoordinatorDecisions.EndRun(s with { LastCheckpointStep = 12 }, settings).Checkpoint);
        Assert.Equal("all planned steps are done", (s with { StopReason = null }).FinishReason);
    }

    private sealed class NoCheckpoints : IRunCheckpointer
    {
        public Task<SavedCheckpoint> SaveAsync(string stateEndpoint, RunStateSnapshot state, CancellationToken cancellationToken) => Task.FromResult(new SavedCheckpoint("", null));
    }
}
