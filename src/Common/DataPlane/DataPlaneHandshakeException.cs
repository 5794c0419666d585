namespace FaceCluster.Common.DataPlane;

/// <summary>A data-plane connection was refused during its authentication handshake, by either side.</summary>
public sealed class DataPlaneHandshakeException : IOException
{
    /// <summary>Creates the exception; the message names the peer and the reason.</summary>
    public DataPlaneHandshakeException(string message, HandshakeRejection reason, string peerEndpoint, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
        PeerEndpoint = peerEndpoint;
    }

    /// <summary>Why the handshake was refused.</summary>
    public HandshakeRejection Reason { get; }

    /// <summary>The "host:port" (or remote address) of the other side.</summary>
    public string PeerEndpoint { get; }
}
