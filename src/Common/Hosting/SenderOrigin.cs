using Akka.Actor;

namespace FaceCluster.Common.Hosting;

/// <summary>Where a message's sender lives, as the actors that check their peers ask it.</summary>
public static class SenderOrigin
{
    /// <summary>
    /// True when <paramref name="sender"/> is a real actor of this process (the embedded run) or an actor on a member
    /// node of this cluster with <paramref name="role"/>; false for no sender, dead letters, or anyone else.
    /// </summary>
    public static bool IsLocalOrMemberWithRole(ActorSystem system, IActorRef sender, string role)
    {
        var address = sender.Path.Address;
        if (address.HasLocalScope) return !sender.IsNobody() && !sender.Equals(system.DeadLetters);
        return address.HasGlobalScope && Akka.Cluster.Cluster.Get(system).State.Members.Any(m => m.Address.Equals(address) && m.HasRole(role));
    }
}
