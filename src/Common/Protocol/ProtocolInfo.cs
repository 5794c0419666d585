using System.Reflection;

namespace FaceCluster.Common.Protocol;

/// <summary>
/// Versions exchanged when a worker joins: a worker whose protocol differs from the coordinator's is refused,
/// with both versions named.
/// </summary>
public static class ProtocolInfo
{
    /// <summary>Bumped whenever a message's wire layout or meaning changes.</summary>
    public const int Version = 7;

    /// <summary>The build of this binary (assembly informational version).</summary>
    public static string Build { get; } =
        typeof(ProtocolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(ProtocolInfo).Assembly.GetName().Version?.ToString() ?? "0";
}
