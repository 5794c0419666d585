using FaceCluster.Cli.Hosts;

namespace FaceCluster.Cli.Commands;

/// <summary>`facecluster worker`: joins a coordinator (`facecluster coordinator`) with one worker per device of this machine.</summary>
internal static class WorkerCommand
{
    private static readonly Option<string> Join = new("--join") { Description = "The coordinator's --bind address, HOST:PORT.", Required = true };
    private static readonly Option<string> Device = new("--device") { Description = "cpu, cuda, cuda:N, mps or auto (auto: every CUDA GPU, else MPS, else the CPU).", DefaultValueFactory = _ => "auto" };
    private static readonly Option<int> Workers = new("--workers") { Description = "Worker actors on the CPU (with a GPU: one per device).", DefaultValueFactory = _ => 1 };
    private static readonly Option<string?> Cache = new("--cache") { Description = "Where faces fetched from the coordinator are kept (default ~/.cache/facecluster/<manifest hash>)." };
    private static readonly Option<string?> SecretFile = new("--secret-file") { Description = "The cluster's shared secret: a copy of the coordinator's RUNDIR/cluster.secret (or its --secret-file)." };
    private static readonly Option<string?> TlsCa = new("--tls-ca")
    {
        Description = "PEM file of the CA (or the self-signed certificate) the coordinator's HTTPS certificate comes from, when it is not in the system's trust store.",
    };
    private static readonly Option<string?> Bind = new("--bind") { Description = "Address this node listens on (default: this machine's address towards the coordinator)." };
    private static readonly Option<string?> PublicHost = new("--public-host") { Description = "The name other nodes use to reach this one (default: the bind address)." };
    private static readonly Option<string?> Data = new("--data") { Description = "This machine's copy of the face set; images missing or different here are fetched from the coordinator." };
    private static readonly Option<string?> Id = new("--id") { Description = "Worker id (default: host name and process id)." };
    private static readonly Option<int> CoordinatorWait = new("--coordinator-wait")
    {
        Description = "Seconds to wait, keeping the replica, for a coordinator that stopped or was lost to come back (a restart); 0: exit at once.",
        DefaultValueFactory = _ => (int)ClusterWorkerOptions.DefaultCoordinatorWait.TotalSeconds,
    };

    public static Command Create()
    {
        return CliCommands.Define("worker", "Join a coordinator (`facecluster coordinator`) and train with this machine's devices.",
            Run, Join, Device, Workers, TrainOptionsBinding.Threads, Cache, SecretFile, Bind, PublicHost, Data, Id, CoordinatorWait, TrainOptionsBinding.MaxBatch, TrainOptionsBinding.UpdateOn, TrainOptionsBinding.Overlap, TrainOptionsBinding.Insecure, TlsCa, TrainOptionsBinding.StayUp, TrainOptionsBinding.LogLevel);
    }

    private static int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        string secretFile = parse.GetValue(SecretFile)
            ?? throw new FaceClusterException("--secret-file is required: copy the coordinator's RUNDIR/cluster.secret to this machine and name it", ExitCodes.UsageError);
        var options = new ClusterWorkerOptions(parse.GetRequiredValue(Join), DeviceSpec.Parse(parse.GetValue(Device)!), parse.GetValue(Workers),
            parse.GetValue(TrainOptionsBinding.Threads), parse.GetValue(Cache), secretFile, parse.GetValue(Bind), parse.GetValue(PublicHost),
            parse.GetValue(Data), parse.GetValue(Id), parse.GetValue(TrainOptionsBinding.MaxBatch), TimeSpan.FromSeconds(parse.GetValue(CoordinatorWait)),
            parse.GetValue(TrainOptionsBinding.Insecure), parse.GetValue(TlsCa), parse.GetValue(TrainOptionsBinding.StayUp),
            FaceCluster.Common.Models.Training.UpdatePlacements.Normalize(parse.GetValue(TrainOptionsBinding.UpdateOn)),
            FaceCluster.Common.Models.Training.StepOverlap.Normalize(parse.GetValue(TrainOptionsBinding.Overlap)));
        using var loggerFactory = CliLogging.Create(parse);
        using var signals = new CliSignals();
        var result = ClusterWorkerRun.RunAsync(options, line => { output.WriteLine(line); output.Flush(); }, loggerFactory, signals.Token).GetAwaiter().GetResult();
        output.WriteLine($"Worker done: {result.Reason}; replica at step {result.ReplicaStep}, checksum {result.Checksum}; images: {result.LocalReads} from the data folder, {result.CacheHits} from the cache, {result.Downloads} downloaded");
        return ExitCodes.Ok;
    }
}
