namespace FaceCluster.Common.DataPlane;

/// <summary>Why a data-plane handshake was refused. Sent on the wire as one byte: never renumber.</summary>
public enum HandshakeRejection : byte
{
    /// <summary>Not refused.</summary>
    None = 0,
    /// <summary>The connection does not speak the FaceCluster data-plane protocol.</summary>
    BadMagic = 1,
    /// <summary>The peers speak different protocol versions.</summary>
    UnsupportedVersion = 2,
    /// <summary>A side failed to prove that it knows the cluster's shared secret.</summary>
    AuthenticationFailed = 3,
    /// <summary>The connection belongs to a ring generation older than the one this endpoint has joined.</summary>
    StaleGeneration = 4,
    /// <summary>This endpoint has not joined the connection's ring generation (within the handshake timeout).</summary>
    UnknownGeneration = 5,
    /// <summary>The connection expected this endpoint to hold another rank.</summary>
    WrongRank = 6,
    /// <summary>The connecting rank is not this rank's predecessor in the ring.</summary>
    NotPredecessor = 7,
    /// <summary>The peers disagree about the ring's size or members.</summary>
    RingMismatch = 8,
    /// <summary>The predecessor is already connected for this generation.</summary>
    DuplicateConnection = 9,
    /// <summary>The peer has no state to give (no provider set, or the provider returned nothing).</summary>
    NoStateAvailable = 10,
    /// <summary>The peer's endpoint is shutting down.</summary>
    EndpointClosing = 11,
    /// <summary>The connection asked for a purpose this endpoint does not serve.</summary>
    BadPurpose = 12,
    /// <summary>Too many connections are in their handshake at once.</summary>
    TooManyConnections = 13,
    /// <summary>The handshake did not finish within its timeout.</summary>
    Timeout = 14,
    /// <summary>The peer closed the connection or sent malformed data during the handshake.</summary>
    ProtocolViolation = 15,
    /// <summary>The endpoint's join of that ring generation has already ended (it failed, or the ring was formed).</summary>
    JoinEnded = 16,
}
