
namespace FaceCluster.Common.FaceSet;

/// <summary>An image that cannot be decoded into a face, with the reason. The message names the file.</summary>
public sealed class FaceImageException(RejectReason reason, string message, Exception? inner = null)
    : FaceClusterException(message, ExitCodes.UserError, inner)
{
    public RejectReason Reason { get; } = reason;
}
