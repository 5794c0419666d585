using FaceCluster.Common.Hosting;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Runs;

namespace FaceCluster.Tests.Runs;

[Trait("Tier", "unit")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ClusterSecretTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void A_new_run_folder_gets_a_secret_only_its_owner_can_read()
    {
        using var dir = new ScratchFolder("fc-secret");
        using var folder = RunFolder.OpenExclusive(dir.Combine("run"));
        byte[] secret = folder.LoadOrCreateSecret(null);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(folder.SecretPath));
        Assert.Equal(secret, ClusterSecret.Read(folder.SecretPath));
        Assert.Empty(Directory.GetFiles(dir.Combine("run"), "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead, "0604")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, "0460")]
    public void A_secret_file_open_to_others_is_refused_saying_how_to_close_it(UnixFileMode mode, string shown)
    {
        using var dir = new ScratchFolder("fc-secret");
        string path = dir.Write("cluster.secret", "0123456789abcdef0123456789abcdef\n"u8.ToArray());
        File.SetUnixFileMode(path, mode);
        var e = Assert.Throws<FaceClusterException>(() => ClusterSecret.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(shown, e.Message);
        Assert.Contains("chmod 600", e.Message);
    }

    [Fact]
    public void A_secret_its_group_may_read_is_accepted_as_a_shared_deployment_mounts_it()
    {
        using var dir = new ScratchFolder("fc-secret");
        string path = dir.Write("cluster.secret", "0123456789abcdef0123456789abcdef\n"u8.ToArray());
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        Assert.Equal(32, ClusterSecret.Read(path).Length);
        string link = dir.Combine("link.secret");
        File.CreateSymbolicLink(link, path); // Kubernetes mounts secrets as links into ..data
        Assert.Equal(32, ClusterSecret.Read(link).Length);
    }

    [Theory]
    [InlineData("replace-me-with-32-random-bytes-in-base64")] // what deploy/k8s/secret.yaml shipped until it was removed
    [InlineData("CHANGEME-changeme-0123456789abcdef")]
    public void A_known_placeholder_is_refused(string value)
    {
        using var dir = new ScratchFolder("fc-secret");
        string path = dir.Write("cluster.secret", System.Text.Encoding.UTF8.GetBytes(value + "\n"));
        File.SetUnixFileMode(path, OwnerOnly);
        var e = Assert.Throws<FaceClusterException>(() => ClusterSecret.Read(path));
        Assert.Contains("placeholder", e.Message);
    }
}
