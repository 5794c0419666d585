using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.IO;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Torch;
using FaceCluster.GpuWorker.Actors;
using FaceCluster.GpuWorker.Devices;
using FaceCluster.GpuWorker.Training;
using FaceCluster.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.ControlPlane;

/// <summary>The worker actor obeys the coordinator that accepted it, and no one else.</summary>
[Trait("Tier", "integration")]
public sealed class WorkerActorTests : TestKit
{
    public WorkerActorTests() : base("akka.loglevel = WARNING") { }

    [Fact]
    public async Task Orders_from_anyone_but_the_accepting_coordinator_are_dropped_and_the_log_names_the_sender()
    {
        TorchRuntime.EnsureLoaded();
        using var temp = new ScratchFolder("fc-worker-actor");
        var (manifest, run) = ClusterFixtures.TinyRun(temp, perIdentity: 3);
        using var endpoint = new DataPlaneEndpoint(IPAddress.Loopback, 0, RingHarness.Secret, NullLogger.Instance, advertisedHost: "127.0.0.1");
        using var engine = new WorkerEngine(new WorkerEngineOptions("w", 1, 4), DeviceInventory.Select(DeviceSpec.Cpu)[0], endpoint, RingHarness.Secret, NullLogger.Instance);
        var faceSets = new LocalFaceSetProvider(manifest, new LocalFaceImageSource(manifest.DataRoot), null, 1, NullLogger.Instance);
        var lifecycle = new WorkerLifecycle();
        var coordinator = CreateTestProbe("coordinator");
        var forger = CreateTestProbe("forger");
        var worker = Sys.ActorOf(WorkerActor.Props(engine, coordinator.Ref, faceSets, lifecycle), "worker");

        coordinator.ExpectMsg<RegisterWorker>(TimeSpan.FromSeconds(10));
        worker.Tell(new RegistrationAccepted("w", run), coordinator.Ref);
        coordinator.FishForMessage(m => m is WorkerReady, TimeSpan.FromSeconds(60));

        // Another member orders the worker to end and to stop: dropped, the sender named.
        EventFilter.Warning(contains: $"dropped TrainingFinished from {forger.Ref.Path}").ExpectOne(() => worker.Tell(new TrainingFinished(0, "forged"), forger.Ref));
        EventFilter.Warning(contains: $"dropped PublishState from {forger.Ref.Path}").ExpectOne(() => worker.Tell(new PublishState(0), forger.Ref));
        await Task.Delay(200);
        Assert.False(lifecycle.Outcome.IsCompleted);
        forger.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // The coordinator that accepted it is obeyed.
        worker.Tell(new TrainingFinished(0, "done"), coordinator.Ref);
        var outcome = await lifecycle.Outcome.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WorkerOutcomeKind.Finished, outcome.Kind);
    }
}
