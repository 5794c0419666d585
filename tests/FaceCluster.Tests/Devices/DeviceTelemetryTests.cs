using FaceCluster.Common.Protocol.Training;
using FaceCluster.Common.Torch;
using FaceCluster.Coordinator.ControlPlane;
using FaceCluster.GpuWorker.Devices;

namespace FaceCluster.Tests.Devices;

/// <summary>What the dashboard shows of a worker's device: nvidia-smi's figures on NVIDIA, "n/a" with the reason elsewhere.</summary>
[Trait("Tier", "unit")]
public sealed class DeviceTelemetryTests
{
    [Fact]
    public void Nvidia_smi_s_line_becomes_memory_utilisation_and_temperature()
    {
        var t = DeviceTelemetryReader.ParseNvidiaSmi("31337, 81559, 87, 64\n")!;
        Assert.Equal(31337L * 1024 * 1024, t.MemoryUsedBytes);
        Assert.Equal(81559L * 1024 * 1024, t.MemoryTotalBytes);
        Assert.Equal((87.0, 64.0, "nvidia-smi"), (t.UtilizationPercent, t.TemperatureC, t.Source));
        Assert.Equal("30.6 / 79.6 GiB", CoordinatorDecisions.MemoryText(t));
        Assert.Equal("87 %, 64 °C", CoordinatorDecisions.UtilizationText(t));

        // A field the driver does not know ("[N/A]" on some boards) is unknown, not zero.
        var partial = DeviceTelemetryReader.ParseNvidiaSmi("1024, 16384, [N/A], [N/A]")!;
        Assert.True(double.IsNaN(partial.UtilizationPercent));
        Assert.Equal("n/a", CoordinatorDecisions.UtilizationText(partial));
        Assert.Equal("1.0 / 16.0 GiB", CoordinatorDecisions.MemoryText(partial));
        Assert.Null(DeviceTelemetryReader.ParseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."));
    }

    [Fact]
    public void A_cpu_device_has_no_driver_telemetry_and_says_so()
    {
        var cpu = DeviceInventory.Select(DeviceSpec.Cpu)[0];
        var t = new DeviceTelemetryReader(cpu).Read();
        Assert.False(t.Available);
        Assert.StartsWith("n/a: no driver telemetry for a cpu device", t.Source);
        Assert.Equal(("n/a", "n/a"), (CoordinatorDecisions.MemoryText(t), CoordinatorDecisions.UtilizationText(t)));
    }
}
