using Akka.Actor;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.ControlPlane;

namespace FaceCluster.Tests.Support;

/// <summary>Stands in for the coordinator behind the HTTP API: a fixed cluster status, and ledger requests forwarded to a real ledger.</summary>
internal sealed class FakeCoordinator : ReceiveActor
{
    public static readonly ClusterStatus Status = new("run-x", "running", 7, 1, 20, 2, 8, 123.5,
        [new WorkerStatus("w1", "host-a", "cpu", "active", 8, 123.5, 6, "", -1, "")], double.NaN, 0, -1);

    public FakeCoordinator(Props ledgerProps)
    {
        var ledger = Context.ActorOf(ledgerProps, "ledger");
        Receive<GetClusterStatus>(_ => Sender.Tell(Status));
        Receive<ILedgerRequest>(m => ledger.Forward(m));
    }
}
