using FaceCluster.Common.DataPlane;

namespace FaceCluster.GpuWorker.Training;

/// <summary>What a failed step means for the worker, and so what it does after the rollback.</summary>
public enum StepFaultKind
{
    /// <summary>A peer, the network, the data or the coordinator: the next plan may well succeed.</summary>
    Transient,
    /// <summary>The device ran out of memory: the worker lowers its largest batch and the run replans.</summary>
    OutOfMemory,
    /// <summary>Anything else (a bug, a bad plan, a library error): the step fails; several in a row and the worker gives up.</summary>
    Unexpected,
    /// <summary>The device is unusable (a sticky CUDA error): the worker exits, non-zero, with the reason.</summary>
    Fatal,
}

/// <summary>Classifies the exception that ended a step (libtorch's errors arrive as exceptions with its message).</summary>
public static class StepFault
{
    /// <summary>Unexpected failures in a row (no segment finished between them) after which the worker gives up.</summary>
    public const int MaxUnexpectedInARow = 3;

    private static readonly string[] OutOfMemoryMarks =
        ["out of memory", "can't allocate memory", "cannot allocate memory", "CUBLAS_STATUS_ALLOC_FAILED", "MPS backend out of memory"];

    // CUDA errors after which the context is corrupt: every later call fails too.
    private static readonly string[] FatalMarks =
        ["illegal memory access", "device-side assert", "unspecified launch failure", "uncorrectable ECC error", "misaligned address", "CUDA error: unknown error"];

    public static StepFaultKind Classify(Exception e)
    {
        if (e is AllReduceFailedException or OperationCanceledException or ObjectDisposedException or StateTransferException
                or Common.Errors.FaceClusterException or IOException or InvalidDataException)
            return StepFaultKind.Transient;
        if (e is OutOfMemoryException || OutOfMemoryMarks.Any(m => e.Message.Contains(m, StringComparison.OrdinalIgnoreCase)))
            return StepFaultKind.OutOfMemory;
        if (FatalMarks.Any(m => e.Message.Contains(m, StringComparison.OrdinalIgnoreCase)))
            return StepFaultKind.Fatal;
        return StepFaultKind.Unexpected;
    }

    /// <summary>The reason a coordinator and an operator read: the message, and for anything but the expected faults its type.</summary>
    public static string Describe(Exception e, StepFaultKind kind)
    {
        string first = e.Message.Split('\n', 2)[0].Trim();
        return kind == StepFaultKind.Transient ? first : $"{e.GetType().Name}: {first}";
    }
}
