using Akka.Actor;
using Akka.TestKit.Xunit2;
using FaceCluster.Common.Protocol;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Tests.ControlPlane;

/// <summary>The coordinator actor alone, with test probes as its workers.</summary>
[Trait("Tier", "unit")]
public sealed class CoordinatorActorTests : TestKit
{
    private static readonly RunSpec Run = new("run-1", "Autoencoder", "tiny", ["a", "b"], "hash", "/data", "", 5e-4, 0, 1, 10, true);

    private static CoordinatorSettings Settings(int minWorkers, ResumePoint? resume = null) =>
        new(Run, GlobalBatch: 8, TotalSteps: 40, MinWorkers: minWorkers,
            FailureGrace: TimeSpan.FromSeconds(1), LedgerProps: null, Checkpoints: null, Resume: resume, Observer: null);

    private static DeviceReport Cpu(double samplesPerSecond = 100) => new("cpu", 0, "AMD", "EPYC", 0, samplesPerSecond, 64, "");

    private static RegisterWorker Register(string id, long step = -1, int protocol = -1, string? build = null) =>
        new(id, "host", protocol < 0 ? ProtocolInfo.Version : protocol, build ?? ProtocolInfo.Build, "127.0.0.1:1", Cpu(), step);

    [Fact]
    public void A_worker_of_another_protocol_or_build_is_refused_naming_both_versions()
    {
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(Settings(1)));
        var worker = CreateTestProbe();
        coordinator.Tell(Register("w1", protocol: ProtocolInfo.Version + 1, build: "9.9.9-other"), worker.Ref);
        var refused = worker.ExpectMsg<RegistrationRefused>();
        Assert.Contains($"protocol v{ProtocolInfo.Version + 1}", refused.Reason);
        Assert.Contains("9.9.9-other", refused.Reason);
        Assert.Contains($"protocol v{ProtocolInfo.Version}", refused.Reason);
        Assert.Contains(ProtocolInfo.Build, refused.Reason);
    }

    [Fact]
    public void Local_batches_follow_measured_speed_and_sum_to_the_global_batch()
    {
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(Settings(2)));
        var fast = CreateTestProbe();
        var slow = CreateTestProbe();
        coordinator.Tell(Register("fast"), fast.Ref);
        coordinator.Tell(Register("slow"), slow.Ref);
        fast.ExpectMsg<RegistrationAccepted>();
        slow.ExpectMsg<RegistrationAccepted>();
        coordinator.Tell(new WorkerReady("fast", Cpu(300), 0, "c"), fast.Ref);
        coordinator.Tell(new WorkerReady("slow", Cpu(100), 0, "c"), slow.Ref);
        var a = fast.ExpectMsg<SegmentPlan>();
        var b = slow.ExpectMsg<SegmentPlan>();
        Assert.Equal(a.LocalBatches, b.LocalBatches);
        Assert.Equal(8, a.LocalBatches.Sum());
        Assert.Equal(6, a.LocalBatches[Array.IndexOf(a.RingWorkerIds, "fast")]);
        Assert.Equal(2, a.LocalBatches[Array.IndexOf(a.RingWorkerIds, "slow")]);
        Assert.Equal((0L, 10L), (a.FromStep, a.ToStep));
    }

    [Fact]
    public void With_equal_batches_the_split_ignores_speed()
    {
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(Settings(2) with { EqualBatches = true }));
        var fast = CreateTestProbe();
        var slow = CreateTestProbe();
        coordinator.Tell(Register("fast"), fast.Ref);
        coordinator.Tell(Register("slow"), slow.Ref);
        fast.ExpectMsg<RegistrationAccepted>();
        slow.ExpectMsg<RegistrationAccepted>();
        coordinator.Tell(new WorkerReady("fast", Cpu(300), 0, "c"), fast.Ref);
        coordinator.Tell(new WorkerReady("slow", Cpu(100), 0, "c"), slow.Ref);
        Assert.Equal([4, 4], fast.ExpectMsg<SegmentPlan>().LocalBatches);
    }

    private (IActorRef Coordinator, Akka.TestKit.TestProbe Fast, Akka.TestKit.TestProbe Slow, SegmentPlan Plan) TwoEqualWorkersPlanned(CoordinatorSettings settings)
    {
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(settings));
        var fast = CreateTestProbe();
        var slow = CreateTestProbe();
        coordinator.Tell(Register("fast"), fast.Ref);
        coordinator.Tell(Register("slow"), slow.Ref);
        fast.ExpectMsg<RegistrationAccepted>();
        slow.ExpectMsg<RegistrationAccepted>();
        // The calibration said they are equal.
        coordinator.Tell(new WorkerReady("fast", Cpu(100), 0, "c"), fast.Ref);
        coordinator.Tell(new WorkerReady("slow", Cpu(100), 0, "c"), slow.Ref);
        var plan = fast.ExpectMsg<SegmentPlan>();
        slow.ExpectMsg<SegmentPlan>();
        Assert.Equal([4, 4], plan.LocalBatches);
        return (coordinator, fast, slow, plan);
    }

    private static StepCompleted Step(string id, SegmentPlan plan, long step, double computeMs) =>
        new(id, plan.Generation, plan.Cycle, step, 2, [1, 2, 3, 4], [0.1f, 0.1f, 0.1f, 0.1f], computeMs, 0, 5);

    [Fact]
    public void A_split_the_measured_steps_contradict_is_corrected_within_the_cycle()
    {
        var (coordinator, fast, slow, plan) = TwoEqualWorkersPlanned(Settings(2) with { RebalanceSkipSteps = 1, RebalanceSampleSteps = 2 });
        // In fact one computes 4 samples in 40 ms and the other in 120 ms.
        for (long step = 0; step < 3; step++)
        {
            coordinator.Tell(Step("fast", plan, step, 40), fast.Ref);
            coordinator.Tell(Step("slow", plan, step, 120), slow.Ref);
        }
        var stop = fast.ExpectMsg<StopAtStep>();
        Assert.Equal(stop, slow.ExpectMsg<StopAtStep>());
        Assert.Equal((plan.Generation, 4L), (stop.Generation, stop.Step));
        coordinator.Tell(new SegmentFinished("fast", plan.Generation, 0, 5, "c", 100, 40, 0, 5, 0), fast.Ref);
        coordinator.Tell(new SegmentFinished("slow", plan.Generation, 0, 5, "c", 33, 120, 0, 5, 0), slow.Ref);

        var next = fast.ExpectMsg<SegmentPlan>();
        Assert.Equal(next.LocalBatches, slow.ExpectMsg<SegmentPlan>().LocalBatches);
        Assert.Equal((plan.Generation + 1, 5L, 10L), (next.Generation, next.FromStep, next.ToStep)); // the rest of the same cycle
        Assert.Equal(6, next.LocalBatches[Array.IndexOf(next.RingWorkerIds, "fast")]);
        Assert.Equal(2, next.LocalBatches[Array.IndexOf(next.RingWorkerIds, "slow")]);
    }

    [Fact]
    public void A_split_the_measured_steps_confirm_is_kept_and_so_is_one_with_little_to_gain()
    {
        var (coordinator, fast, slow, plan) = TwoEqualWorkersPlanned(Settings(2) with { RebalanceSkipSteps = 1, RebalanceSampleSteps = 2 });
        for (long step = 0; step < 4; step++)
        {
            coordinator.Tell(Step("fast", plan, step, 100), fast.Ref);
            coordinator.Tell(Step("slow", plan, step, 108), slow.Ref); // 8% apart: below the 10% worth a new plan
        }
        fast.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        slow.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        var (coordinator2, fast2, slow2, plan2) = TwoEqualWorkersPlanned(Settings(2) with { EqualBatches = true, RebalanceSkipSteps = 1, RebalanceSampleSteps = 2 });
        for (long step = 0; step < 4; step++)
        {
            coordinator2.Tell(Step("fast", plan2, step, 40), fast2.Ref);
            coordinator2.Tell(Step("slow", plan2, step, 120), slow2.Ref); // --balance equal: never re-split
        }
        fast2.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_restarted_coordinator_continues_from_live_replicas_newer_than_its_checkpoint()
    {
        // The checkpoint is of step 10; the workers kept their replicas, which reached step 14 before the old coordinator died.
        var resume = new ResumePoint(10, 1, [], [], [], "127.0.0.1:9", "old");
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(Settings(1, resume)));
        var worker = CreateTestProbe();
        coordinator.Tell(Register("w1", step: 14), worker.Ref);
        worker.ExpectMsg<RegistrationAccepted>();
        coordinator.Tell(new WorkerReady("w1", Cpu(), 14, "live"), worker.Ref);
        var plan = worker.ExpectMsg<SegmentPlan>();
        Assert.Equal(14, plan.FromStep);
        Assert.Equal(20, plan.ToStep); // the rest of cycle 1
        Assert.Equal("", plan.ResyncFromEndpoint); // its own replica is the state: no resync from the checkpoint
    }

    [Fact]
    public void A_restarted_coordinator_with_fresh_workers_resumes_from_its_checkpoint()
    {
        var resume = new ResumePoint(10, 1, [3], [], [], "127.0.0.1:9", "ckpt");
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(Settings(1, resume)));
        var worker = CreateTestProbe();
        coordinator.Tell(Register("w1"), worker.Ref);
        worker.ExpectMsg<RegistrationAccepted>();
        coordinator.Tell(new WorkerReady("w1", Cpu(), 0, "fresh"), worker.Ref);
        var plan = worker.ExpectMsg<SegmentPlan>();
        Assert.Equal(10, plan.FromStep);
        Assert.Equal("127.0.0.1:9", plan.ResyncFromEndpoint);
        Assert.Equal([3], plan.Excluded);
    }

    [Fact]
    public void Messages_that_claim_another_worker_s_id_are_dropped_and_the_log_names_their_sender()
    {
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(Settings(2)));
        var w1 = CreateTestProbe("w1");
        var w2 = CreateTestProbe("w2");
        var forger = CreateTestProbe("forger");
        foreach (var (id, probe) in new[] { ("w1", w1), ("w2", w2) })
        {
            coordinator.Tell(Register(id), probe.Ref);
            probe.ExpectMsg<RegistrationAccepted>();
        }
        coordinator.Tell(new WorkerReady("w1", Cpu(), 0, "c"), w1.Ref);
        coordinator.Tell(new WorkerReady("w2", Cpu(), 0, "c"), w2.Ref);
        var plan = w1.ExpectMsg<SegmentPlan>();
        w2.ExpectMsg<SegmentPlan>();

        // A member that is not w1 claims to be w1: a failure (would replan), a loss report (would steer curation),
        // a departure (would evict w1). Each is dropped with a warning that names the forger.
        EventFilter.Warning(contains: $"claiming to be from worker w1: it came from {forger.Ref.Path}").Expect(3, () =>
        {
            coordinator.Tell(new StepFailed("w1", plan.Generation, plan.FromStep, plan.FromStep, "forged", ""), forger.Ref);
            coordinator.Tell(new StepCompleted("w1", plan.Generation, 0, plan.FromStep, 1, [0], [99f], 1, 0, 0), forger.Ref);
            coordinator.Tell(new WorkerLeaving("w1", plan.FromStep), forger.Ref);
        });
        w1.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        w2.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        coordinator.Tell(GetClusterStatus.Instance, TestActor);
        var status = ExpectMsg<ClusterStatus>();
        Assert.Equal("running", status.State);
        Assert.All(status.Workers, w => Assert.Equal("active", w.State));

        // The real w1's failure is heard: the coordinator replans (tells w2 to abort).
        coordinator.Tell(new StepFailed("w1", plan.Generation, plan.FromStep, plan.FromStep, "real", ""), w1.Ref);
        w2.ExpectMsg<AbortSegment>();
    }
}
