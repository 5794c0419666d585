using System.Net.Sockets;
using FaceCluster.Common.FaceSet.Synth;

namespace FaceCluster.Tests.Cluster;

/// <summary>Small helpers of the cluster tests: a tiny synthetic face set and free ports.</summary>
internal static class ClusterFixtures
{
    /// <summary>Writes a tiny face set (2 identities, 32 px) into <paramref name="dir"/>.</summary>
    public static string TinyFaceSet(string dir, int perIdentity = 10)
    {
        SynthGenerator.Generate(new SynthOptions { OutDir = dir, Identities = 2, PerIdentity = perIdentity, Size = 32, BadFraction = 0, HardFraction = 0, JpegFraction = 0.5, MaxParallelism = 1 });
        return dir;
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
