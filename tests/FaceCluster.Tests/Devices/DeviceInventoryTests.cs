using FaceCluster.Common.Torch;
using FaceCluster.GpuWorker.Devices;

namespace FaceCluster.Tests.Devices;

[Trait("Tier", "unit")]
public class DeviceInventoryTests
{
    private static readonly GpuInfo Amd = new("AMD", "AMD GPU (PCI device 0x73bf)", 0, 16L << 30, 0, "0000:03:00.0", "sysfs");
    private static readonly GpuInfo Intel = new("Intel", "Intel GPU (PCI device 0x56a0)", 1, 0, 0, "0000:04:00.0", "sysfs");
    private static readonly GpuInfo H100 = new("NVIDIA", "NVIDIA H100 80GB HBM3", 0, 80L << 30, 79L << 30, "00000000:1B:00.0", "nvml");
    private static readonly GpuInfo Rtx = new("NVIDIA", "NVIDIA GeForce RTX 3060", 1, 12L << 30, 11L << 30, "00000000:2B:00.0", "nvml");

    [Fact]
    public void Auto_with_an_amd_gpu_falls_back_to_the_cpu_and_says_why()
    {
        var devices = DeviceInventory.Select(DeviceSpec.Auto, [Amd, Intel], cudaCount: 0, mps: false, backend: "cpu");
        var d = Assert.Single(devices);
        Assert.Equal("cpu", d.Kind);
        Assert.Contains("AMD GPU (PCI device 0x73bf)", d.Note);
        Assert.Contains("Intel GPU", d.Note);
        Assert.Contains("cannot drive", d.Note);
        Assert.Contains("training on the CPU", d.Note);
    }

    [Fact]
    public void Auto_means_every_cuda_gpu_with_names_and_memory_from_nvml()
    {
        var devices = DeviceInventory.Select(DeviceSpec.Auto, [H100, Rtx, Amd], cudaCount: 2, mps: false, backend: "cuda");
        Assert.Equal(2, devices.Count);
        Assert.Equal(["cuda:0", "cuda:1"], devices.Select(d => $"{d.Kind}:{d.Index}"));
        Assert.Equal("NVIDIA H100 80GB HBM3", devices[0].Name);
        Assert.Equal(12L << 30, devices[1].MemoryBytes);
    }

    [Fact]
    public void An_nvidia_gpu_in_a_cpu_build_is_reported_with_the_rebuild_switch()
    {
        var d = Assert.Single(DeviceInventory.Select(DeviceSpec.Auto, [H100], 0, false, "cpu"));
        Assert.Equal("cpu", d.Kind);
        Assert.Contains("-p:TorchBackend=cuda", d.Note);
    }

    [Fact]
    public void Asking_for_cuda_without_one_is_a_clear_error()
    {
        var e = Assert.Throws<FaceClusterException>(() => DeviceInventory.Select(DeviceSpec.Parse("cuda:0"), [Amd], 0, false, "cpu"));
        Assert.Contains("--device cuda:0", e.Message);
        Assert.Contains("AMD", e.Message);
        var e2 = Assert.Throws<FaceClusterException>(() => DeviceInventory.Select(DeviceSpec.Parse("cuda:3"), [H100, Rtx], 2, false, "cuda"));
        Assert.Contains("cuda:0..cuda:1", e2.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void Bad_device_names_are_rejected_naming_the_value(string value)
    {
        var e = Assert.Throws<FaceClusterException>(() => DeviceSpec.Parse(value));
        Assert.Contains($"'{value}'", e.Message);
    }

    [Fact]
    public void Nvidia_smi_output_is_parsed()
    {
        var gpus = NvidiaSmiProbe.Parse("0, NVIDIA H100 80GB HBM3, 81559, 80990, 00000000:1B:00.0\n1, Tesla T4, 15360, 15000, 00000000:3B:00.0\n");
        Assert.Equal(2, gpus.Count);
        Assert.Equal("Tesla T4", gpus[1].Name);
        Assert.Equal(15360L << 20, gpus[1].MemoryBytes);
    }

    [Fact]
    public void Display_class_pci_devices_are_found_in_sysfs()
    {
        string root = Path.Combine(Path.GetTempPath(), "fc-sys-" + Guid.NewGuid().ToString("N"));
        try
        {
            void Device(string addr, string cls, string vendor, string device)
            {
                string dir = Path.Combine(root, "bus", "pci", "devices", addr);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "class"), cls + "\n");
                File.WriteAllText(Path.Combine(dir, "vendor"), vendor + "\n");
                File.WriteAllText(Path.Combine(dir, "device"), device + "\n");
            }
            Device("0000:00:02.0", "0x030000", "0x8086", "0x56a0");
            Device("0000:03:00.0", "0x030000", "0x1002", "0x73bf");
            Device("0000:05:00.0", "0x020000", "0x8086", "0x1533"); // a network card
            File.WriteAllText(Path.Combine(root, "bus", "pci", "devices", "0000:03:00.0", "mem_info_vram_total"), "17163091968\n");
            var gpus = PciGpuProbe.Query(root);
            Assert.Equal(["Intel", "AMD"], gpus.Select(g => g.Vendor));
            Assert.Equal(17163091968, gpus[1].MemoryBytes);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void This_host_is_detected_without_errors()
    {
        var devices = DeviceInventory.Select(DeviceSpec.Auto);
        Assert.NotEmpty(devices);
        Assert.All(devices, d => Assert.False(string.IsNullOrWhiteSpace(d.Name)));
    }
}
