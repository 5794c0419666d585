namespace FaceCluster.Common.Protocol;

/// <summary>Marks a message that crosses the network; the binary <c>ProtocolSerializer</c> is bound to it.</summary>
public interface IProtocolMessage;
