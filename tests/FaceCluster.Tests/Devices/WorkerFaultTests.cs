using System.Net;
using System.Runtime.InteropServices;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.IO;
using FaceCluster.Common.Models;
using FaceCluster.Common.Models.Training;
using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Torch;
using FaceCluster.GpuWorker.Devices;
using FaceCluster.GpuWorker.Training;
using FaceCluster.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.Devices;

/// <summary>
/// Whatever a step throws, the worker rolls the step back and reports StepFailed (the coordinator replans). Out of
/// memory lowers its largest batch; a sticky device error, or repeated unexpected errors, end the worker with the reason.
/// The errors are raised where a device's would be: inside the step, with libtorch's messages.
/// </summary>
[Trait("Tier", "integration")]
public sealed class WorkerFaultTests
{
    [Fact]
    public async Task Any_error_in_a_step_fails_it_cleanly_and_out_of_memory_lowers_the_largest_batch()
    {
        TorchRuntime.EnsureLoaded();
        using var temp = new ScratchFolder("fc-faults");
        var (manifest, run) = ClusterFixtures.TinyRun(temp, perIdentity: 6, runId: "faults");
        using var endpoint = new DataPlaneEndpoint(IPAddress.Loopback, 0, RingHarness.Secret, NullLogger.Instance, advertisedHost: "127.0.0.1");
        using var engine = new WorkerEngine(new WorkerEngineOptions("w", 1, 8), DeviceInventory.Select(DeviceSpec.Cpu)[0], endpoint, RingHarness.Secret, NullLogger.Instance);
        var provider = new LocalFaceSetProvider(manifest, new LocalFaceImageSource(manifest.DataRoot), null, 1, NullLogger.Instance);
        var faulty = new FaultyView(await provider.OpenAsync(run, CancellationToken.None));
        string initial = await engine.Configure(run, faulty);
        var calibrated = await engine.Calibrate();

        long generation = 0;
        async Task<Recorder> Segment(Exception? fault, int localBatch = 4)
        {
            faulty.NextFault = fault;
            var events = new Recorder();
            long from = engine.ReplicaStep;
            engine.StartSegment(new SegmentPlan(++generation, 0, from, from + 2, localBatch, ["w"], [endpoint.AdvertisedEndpoint], [localBatch], 0,
                7, [], [], [], "", -1), events);
            await events.Done.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(100); // what the engine says after StepFailed (capacity, giving up) comes right after it
            return events;
        }

        // A CUDA-style out-of-memory error: rolled back, reported, and the largest batch halves the failed local batch.
        var oom = await Segment(new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB total capacity)"), localBatch: 4);
        var failed = Assert.Single(oom.Failed);
        Assert.Contains("out of memory", failed.Reason);
        Assert.Equal(0, failed.ReplicaStep);
        var lowered = Assert.Single(oom.Capacity);
        Assert.Equal(Math.Min(calibrated.MaxBatch, 2), lowered.Device.MaxBatch);
        Assert.Equal(initial, lowered.ParameterChecksum); // the failed step changed nothing
        Assert.Empty(oom.GaveUp);

        // The worker is not idle: the next plan trains.
        var ok = await Segment(null, localBatch: 2);
        Assert.Single(ok.Finished);
        Assert.Equal(2, engine.ReplicaStep);

        // An unexpected error (a bad argument deep in a library) fails the step; the third in a row ends the worker.
        for (int i = 1; i <= StepFault.MaxUnexpectedInARow; i++)
        {
            var bad = await Segment(new ArgumentException("index 9 is out of bounds for dimension 0 with size 4"), localBatch: 2);
            Assert.Contains("ArgumentException: index 9", Assert.Single(bad.Failed).Reason);
            if (i < StepFault.MaxUnexpectedInARow) Assert.Empty(bad.GaveUp);
            else Assert.Contains("3 steps in a row failed unexpectedly", Assert.Single(bad.GaveUp));
        }
        Assert.Equal(2, engine.ReplicaStep);

        // A sticky device error ends the worker at once.
        var sticky = await Segment(new ExternalException("CUDA error: an illegal memory access was encountered"), localBatch: 2);
        Assert.Single(sticky.Failed);
        Assert.Contains("the device is unusable", Assert.Single(sticky.GaveUp));
    }

    [Theory]
    [InlineData("CUDA out of memory. Tried to allocate 20.00 MiB", StepFaultKind.OutOfMemory)]
    [InlineData("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 bytes", StepFaultKind.OutOfMemory)]
    [InlineData("CUDA error: device-side assert triggered", StepFaultKind.Fatal)]
    [InlineData("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x6)", StepFaultKind.Unexpected)]
    public void Libtorch_errors_are_classified_by_their_message(string message, StepFaultKind expected) =>
        Assert.Equal(expected, StepFault.Classify(new ExternalException(message)));

    private sealed class FaultyView(IFaceSetView inner) : IFaceSetView
    {
        public Exception? NextFault { get; set; }
        public IReadOnlyList<int> TrainingIds => inner.TrainingIds;
        public long LabelOf(int sampleId) => inner.LabelOf(sampleId);
        public ISegmentBatches CreateBatches(int[][] idsPerStep, ulong seed) => new FaultyBatches(inner.CreateBatches(idsPerStep, seed), NextFault);
        public ISegmentBatches CreateProbeBatches(int[][] idsPerBatch) => inner.CreateProbeBatches(idsPerBatch);
    }

    /// <summary>The segment's first step throws the fault (as a device would during its forward pass).</summary>
    private sealed class FaultyBatches(ISegmentBatches inner, Exception? fault) : ISegmentBatches
    {
        public TrainBatch Take(CancellationToken cancellationToken) => fault != null ? throw fault : inner.Take(cancellationToken);
        public void Recycle(TrainBatch batch) => inner.Recycle(batch);
        public void Dispose() => inner.Dispose();
    }

    private sealed class Recorder : IWorkerEngineEvents
    {
        public readonly List<StepFailed> Failed = [];
        public readonly List<SegmentFinished> Finished = [];
        public readonly List<WorkerReady> Capacity = [];
        public readonly List<string> GaveUp = [];
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void StepCompleted(StepCompleted step) { }
        public void IdentityProbed(IdentityProbed probe) { }
        public void SegmentFinished(SegmentFinished segment) { Finished.Add(segment); Done.TrySetResult(); }
        public void StepFailed(StepFailed failure) { Failed.Add(failure); Done.TrySetResult(); }
        public void CapacityChanged(WorkerReady ready) => Capacity.Add(ready);
        public void CannotContinue(string reason) => GaveUp.Add(reason);
    }
}
