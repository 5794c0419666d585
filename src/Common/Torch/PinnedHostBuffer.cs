using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceCluster.Common.Torch;

/// <summary>
/// A float32 host buffer that the data plane reads and writes as a managed array and libtorch sees as a tensor over
/// the same memory. For a CUDA device it lives on the pinned object heap (it never moves) and is page-locked with
/// CUDA's <c>cudaHostRegister</c>, so that copies between it and the device are DMA transfers that can run
/// asynchronously, as PyTorch's <c>pin_memory</c> buffers are. Where CUDA's runtime is absent or refuses (a CPU
/// build, a host without the driver), it stays pageable and says why in <see cref="Detail"/>: copies are then
/// synchronous, still correct.
/// </summary>
public sealed class PinnedHostBuffer : IDisposable
{
    private readonly nint _registered;
    private bool _disposed;

    public PinnedHostBuffer(long count, torch.Device device)
    {
        if (count > System.Array.MaxLength) throw new FaceClusterException($"a host buffer of {count} floats is larger than one array can hold");
        bool forCuda = device.type == DeviceType.CUDA;
        Array = forCuda ? GC.AllocateArray<float>((int)count, pinned: true) : new float[count];
        Tensor = torch.frombuffer(Array, ScalarType.Float32);
        if (!forCuda)
        {
            Detail = $"pageable ({device.type.ToString().ToLowerInvariant()} device)";
            return;
        }
        nint address = Marshal.UnsafeAddrOfPinnedArrayElement(Array, 0);
        if (CudaRuntime.TryRegister(address, (nuint)count * sizeof(float), out string why))
        {
            _registered = address;
            IsPageLocked = true;
            Detail = "page-locked (cudaHostRegister)";
        }
        else
        {
            Detail = $"pageable ({why})";
        }
    }

    /// <summary>The buffer as the data plane uses it.</summary>
    public float[] Array { get; }

    /// <summary>A CPU tensor over <see cref="Array"/>'s memory.</summary>
    public Tensor Tensor { get; }

    /// <summary>True when copies to and from a CUDA device may run asynchronously (<c>non_blocking</c>).</summary>
    public bool IsPageLocked { get; }

    /// <summary>Pinned or pageable, and why (for the worker's log).</summary>
    public string Detail { get; }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Tensor.Dispose();
        if (_registered != 0) CudaRuntime.Unregister(_registered);
    }

    /// <summary>The two entry points of CUDA's runtime this needs, bound at run time (a CPU build has no CUDA).</summary>
    private static class CudaRuntime
    {
        private static readonly string[] Names = ["libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "cudart64_13.dll", "cudart64_12.dll"];
        private static readonly Lazy<(RegisterFn? Register, UnregisterFn? Unregister, string Why)> Api = new(Bind);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate int RegisterFn(nint pointer, nuint bytes, uint flags);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate int UnregisterFn(nint pointer);

        public static bool TryRegister(nint pointer, nuint bytes, out string why)
        {
            var api = Api.Value;
            if (api.Register is null)
            {
                why = api.Why;
                return false;
            }
            int status = api.Register(pointer, bytes, 0);
            why = status == 0 ? "" : $"cudaHostRegister returned error {status}";
            return status == 0;
        }

        public static void Unregister(nint pointer) => Api.Value.Unregister?.Invoke(pointer);

        private static (RegisterFn?, UnregisterFn?, string) Bind()
        {
            foreach (string name in Names)
            {
                if (!NativeLibrary.TryLoad(name, out nint library)) continue;
                if (NativeLibrary.TryGetExport(library, "cudaHostRegister", out nint register) && NativeLibrary.TryGetExport(library, "cudaHostUnregister", out nint unregister))
                    return (Marshal.GetDelegateForFunctionPointer<RegisterFn>(register), Marshal.GetDelegateForFunctionPointer<UnregisterFn>(unregister), "");
            }
            return (null, null, $"no CUDA runtime library ({string.Join(", ", Names)}) could be loaded");
        }
    }
}
