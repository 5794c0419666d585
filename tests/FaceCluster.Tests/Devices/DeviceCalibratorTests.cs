using System.Net;
using FaceCluster.Common.DataPlane;
using FaceCluster.Common.FaceSet;
using FaceCluster.Common.IO;
using FaceCluster.Common.Torch;
using FaceCluster.GpuWorker.Devices;
using FaceCluster.GpuWorker.Training;
using FaceCluster.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Tests.Devices;

/// <summary>
/// A CPU worker's largest batch is computed from the memory a sample took in the timed steps, twice over, against the
/// memory available: doubled from the probe batch while it fits, up to the cap, never below the probe batch.
/// </summary>
public sealed class DeviceCalibratorTests
{
    private const long MB = 1_000_000;

    [Theory]
    [Trait("Tier", "unit")]
    [InlineData(16, 256, 5 * MB, 100_000 * MB, 256)] // plenty: the cap
    [InlineData(16, 100, 5 * MB, 100_000 * MB, 100)] // a cap between doublings is taken when it fits
    [InlineData(16, 256, 5 * MB, 700 * MB, 64)]      // 64 × 5 MB × 2 = 640 MB fits, 128 would take 1,280
    [InlineData(16, 256, 5 * MB, 640 * MB, 64)]      // exactly fits
    [InlineData(16, 256, 5 * MB, 100 * MB, 16)]      // not even 32: the probe batch, which has just run
    [InlineData(8, 8, 5 * MB, 100_000 * MB, 8)]      // --max-batch 8: the probe batch is the cap
    public void The_cpu_s_largest_batch_doubles_the_probe_batch_while_twice_its_memory_fits(int probe, int cap, long perSample, long available, int expected)
        => Assert.Equal(expected, DeviceCalibrator.CpuLargestBatch(probe, cap, perSample, available));

    [Theory]
    [Trait("Tier", "unit")]
    [InlineData("1073741824\n", "268435456\n", 805306368L)]    // a 1 GiB limit with 256 MiB used
    [InlineData("1000\n", "1500\n", 0L)]                        // over its limit: no headroom, never negative
    [InlineData("max\n", "268435456\n", null)]                 // cgroup v2 without a limit
    [InlineData("9223372036854771712\n", "268435456\n", null)] // cgroup v1 without a limit
    [InlineData(null, "268435456\n", null)]                     // no memory cgroup file
    [InlineData("1073741824\n", "garbage", null)]
    public void A_memory_cgroup_s_limit_less_its_usage_bounds_the_memory_available(string? limit, string? usage, long? expected)
        => Assert.Equal(expected, HostInfo.CgroupHeadroom(limit, usage));

    [Fact]
    [Trait("Tier", "unit")]
    public void The_memory_available_is_positive_and_no_more_than_the_host_s()
        => Assert.InRange(HostInfo.AvailableMemoryBytes(), 1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    [Fact]
    [Trait("Tier", "integration")]
    public async Task A_cpu_worker_is_calibrated_without_changing_its_replica_and_within_its_cap()
    {
        TorchRuntime.EnsureLoaded();
        using var temp = new ScratchFolder("fc-calibrate");
        var (manifest, run) = ClusterFixtures.TinyRun(temp, perIdentity: 6, runId: "calibrate");
        foreach (int maxBatch in new[] { 0, 48 })
        {
            using var endpoint = new DataPlaneEndpoint(IPAddress.Loopback, 0, RingHarness.Secret, NullLogger.Instance, advertisedHost: "127.0.0.1");
            using var engine = new WorkerEngine(new WorkerEngineOptions("w", 1, maxBatch), DeviceInventory.Select(DeviceSpec.Cpu)[0], endpoint, RingHarness.Secret, NullLogger.Instance);
            var provider = new LocalFaceSetProvider(manifest, new LocalFaceImageSource(manifest.DataRoot), null, 1, NullLogger.Instance);
            string before = await engine.Configure(run, await provider.OpenAsync(run, CancellationToken.None));
            var report = await engine.Calibrate();
            Assert.True(report.SamplesPerSecond > 0, $"samples/s {report.SamplesPerSecond}");
            int cap = maxBatch > 0 ? maxBatch : DeviceCalibrator.DefaultCap(engine.Device);
            // This host has memory for far more than a tiny model's batch of 32: the batch is doubled from 16 at least once.
            Assert.InRange(report.MaxBatch, 32, cap);
            Assert.True(report.MaxBatch == cap || (report.MaxBatch & (report.MaxBatch - 1)) == 0, $"largest batch {report.MaxBatch}: neither the cap nor a doubling of 16");
            Assert.Equal(before, await engine.Checksum());
        }
    }
}
