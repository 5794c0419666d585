using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace FaceCluster.Tests.Cluster;

/// <summary>
/// A multi-host run in Linux network namespaces: the coordinator in one, two workers in another, joined by a veth
/// pair, each side with its own address and no shared face folder (the workers fetch the faces over HTTP). Runs only
/// as root where `ip netns add` works; otherwise it says so and passes. The namespaces are always deleted.
/// </summary>
[Trait("Tier", "integration")]
[Collection("cluster-processes")]
public sealed class NetworkNamespaceClusterTests(ITestOutputHelper output)
{
    private static readonly Regex WorkerDone = new(@"Worker done: .*replica at step (\d+), checksum ([0-9A-Fa-f]+); images: (\d+) from the data folder, (\d+) from the cache, (\d+) downloaded");

    [Fact]
    public async Task Coordinator_and_workers_on_separate_addresses_without_a_shared_face_folder()
    {
        string tag = Guid.NewGuid().ToString("N")[..6];
        string nsC = "fcc-" + tag, nsW = "fcw-" + tag;
        int subnet = Random.Shared.Next(100, 250);
        string coordinatorIp = $"10.213.{subnet}.1", workerIp = $"10.213.{subnet}.2";
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || Ip("netns", "add", nsC) != 0)
        {
            string why = "SKIPPED network-namespace cluster test: needs Linux, root and a working `ip netns add`";
            output.WriteLine(why);
            Console.WriteLine(why);
            return;
        }
        using var temp = new ScratchFolder("fc-netns");
        var processes = new List<FaceClusterProcess>();
        try
        {
            Check(Ip("netns", "add", nsW));
            Check(Ip("link", "add", "vc" + tag, "type", "veth", "peer", "name", "vw" + tag));
            Check(Ip("link", "set", "vc" + tag, "netns", nsC));
            Check(Ip("link", "set", "vw" + tag, "netns", nsW));
            Check(Ip("-n", nsC, "addr", "add", coordinatorIp + "/24", "dev", "vc" + tag));
            Check(Ip("-n", nsW, "addr", "add", workerIp + "/24", "dev", "vw" + tag));
            foreach (var (ns, dev) in new[] { (nsC, "vc" + tag), (nsW, "vw" + tag) })
            {
                Check(Ip("-n", ns, "link", "set", "lo", "up"));
                Check(Ip("-n", ns, "link", "set", dev, "up"));
            }

            string faces = ClusterFixtures.TinyFaceSet(temp.Combine("faces"), perIdentity: 6);
            string run = temp.Combine("run");
            var coordinator = new FaceClusterProcess("coordinator", temp.Path, ["ip", "netns", "exec", nsC],
                ["coordinator", "--data", faces, "--run", run, "--bind", coordinatorIp + ":4053", "--http", coordinatorIp + ":5080",
                 "--cycles", "2", "--steps-per-cycle", "4", "--batch", "16", "--min-workers", "2"]);
            processes.Add(coordinator);
            await coordinator.WaitForAsync(@"HTTP API: http://" + Regex.Escape(coordinatorIp) + ":5080", TimeSpan.FromSeconds(60));
            // The workers' side cannot see the face set: the secret is all they are given.
            string secretCopy = temp.Combine("worker.secret");
            File.Copy(Path.Combine(run, "cluster.secret"), secretCopy);
            for (int i = 1; i <= 2; i++)
                processes.Add(new FaceClusterProcess($"w{i}", temp.Path, ["ip", "netns", "exec", nsW],
                    ["worker", "--join", coordinatorIp + ":4053", "--secret-file", secretCopy, "--device", "cpu", "--threads", "1", "--max-batch", "16",
                     "--id", $"w{i}", "--data", temp.Combine("no-faces-here"), "--cache", temp.Combine($"cache{i}")]));

            Assert.Equal(0, await coordinator.WaitForExitAsync(TimeSpan.FromSeconds(150)));
            Assert.Contains("Done: step 8", coordinator.Output);
            var done = processes.Skip(1).Select(async w =>
            {
                Assert.Equal(0, await w.WaitForExitAsync(TimeSpan.FromSeconds(60)));
                var m = WorkerDone.Match(w.Output);
                Assert.True(m.Success, w.Output);
                Assert.Contains("joining " + coordinatorIp + ":4053 from " + workerIp, w.Output);
                return m;
            }).ToList();
            var results = await Task.WhenAll(done);
            Assert.All(results, m => Assert.Equal("8", m.Groups[1].Value));
            Assert.All(results, m => Assert.Equal("0", m.Groups[3].Value));
            Assert.All(results, m => Assert.True(long.Parse(m.Groups[5].Value) + long.Parse(m.Groups[4].Value) > 0));
            Assert.Equal(results[0].Groups[2].Value, results[1].Groups[2].Value);
            Assert.Equal(results[0].Groups[2].Value, ClusterProcessTests.CheckpointChecksum(run, 8));
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
            Ip("netns", "del", nsW);
            Ip("netns", "del", nsC);
        }
    }

    private static void Check(int exitCode)
    {
        if (exitCode != 0) throw new Xunit.Sdk.XunitException($"an `ip` command failed with {exitCode}");
    }

    private static int Ip(params string[] args) => NetworkNamespaces.Ip(args);
}
