using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FaceCluster.Common.Hosting;

namespace FaceCluster.GpuWorker.Actors;

/// <summary>
/// On a worker node: watches cluster membership and tells the hosting process when the coordinator's node has
/// left the cluster (a graceful stop, or downed by the Split Brain Resolver after a crash), so the worker can keep
/// its replica and rejoin whichever coordinator comes back.
/// </summary>
public sealed class CoordinatorWatcher : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public CoordinatorWatcher(TaskCompletionSource<string> coordinatorGone)
    {
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            if (m.Member.HasRole(ClusterNodeOptions.CoordinatorRole))
                coordinatorGone.TrySetResult($"the coordinator's node {m.Member.Address} left the cluster");
        });
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            if (m.Member.HasRole(ClusterNodeOptions.CoordinatorRole))
                _log.Warning("The coordinator's node {0} is unreachable; if it does not come back it is downed and this worker rejoins its successor", m.Member.Address);
        });
    }

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.UnreachableMember));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    public static Props Props(TaskCompletionSource<string> coordinatorGone) => Akka.Actor.Props.Create(() => new CoordinatorWatcher(coordinatorGone));
}
