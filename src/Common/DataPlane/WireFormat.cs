namespace FaceCluster.Common.DataPlane;

/// <summary>
/// How the ring carries numbers (--wire). Fp32: 4 bytes per element, exact. Bf16: 2 bytes per element (bfloat16:
/// float32's sign, exponent and top 7 mantissa bits, rounded to nearest even); reductions still add in float32, so
/// only what crosses the wire is rounded. The value is the frame header's format byte: peers that disagree fail loudly.
/// </summary>
public enum WireFormat : byte
{
    Fp32 = 0,
    Bf16 = 1,
}

public static class WireFormats
{
    public static int BytesPerElement(this WireFormat wire) => wire == WireFormat.Bf16 ? 2 : 4;

    public static string Name(this WireFormat wire) => wire == WireFormat.Bf16 ? "bf16" : "fp32";

    /// <summary>Parses fp32 or bf16 (--wire); throws <see cref="FaceClusterException"/> naming the value otherwise.</summary>
    public static WireFormat Parse(string text, string option = "--wire") => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => WireFormat.Fp32,
        "bf16" or "bfloat16" => WireFormat.Bf16,
        _ => throw new FaceClusterException($"{option} takes fp32 or bf16, not '{text}'", ExitCodes.UsageError),
    };
}
