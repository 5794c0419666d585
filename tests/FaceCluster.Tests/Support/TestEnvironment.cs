namespace FaceCluster.Tests.Support;

/// <summary>Facts about the machine the tests run on.</summary>
internal static class TestEnvironment
{
    /// <summary>True when running as root (root reads files whatever their mode).</summary>
    public static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";
}
