namespace FaceCluster.Common.DataPlane;

/// <summary>Fetching a replica's state from a peer failed: refused, interrupted, timed out, or corrupted in transit.</summary>
public sealed class StateTransferException : IOException
{
    /// <summary>Creates the exception; the message names the peer and what went wrong.</summary>
    public StateTransferException(string message, string peerEndpoint, Exception? inner = null)
        : base(message, inner) => PeerEndpoint = peerEndpoint;

    /// <summary>The "host:port" of the peer the state was fetched from.</summary>
    public string PeerEndpoint { get; }
}
