namespace FaceCluster.Common.DataPlane;

/// <summary>
/// A ring all-reduce (or the join of a ring) failed: a socket error, the peer closed the connection, a peer
/// sent frames for another step, or nothing arrived within the session's timeout. The session is unusable
/// afterwards; the owner abandons the step and joins the next ring generation the coordinator hands out.
/// </summary>
public sealed class AllReduceFailedException : Exception
{
    /// <summary>Creates the exception; the message should already name the peer, generation and step.</summary>
    public AllReduceFailedException(string message, string peerEndpoint, long generation, long step, Exception? inner = null)
        : base(message, inner)
    {
        PeerEndpoint = peerEndpoint;
        Generation = generation;
        Step = step;
    }

    /// <summary>The "host:port" of the peer whose connection failed.</summary>
    public string PeerEndpoint { get; }

    /// <summary>The ring generation of the failed session.</summary>
    public long Generation { get; }

    /// <summary>The training step of the failed all-reduce; -1 when joining the ring failed.</summary>
    public long Step { get; }
}
