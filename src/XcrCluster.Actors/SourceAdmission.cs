using Akka.Actor;
using Akka.Cluster;

namespace XcrCluster.Actors;

/// <summary>
/// Which attempts a pool's agent takes. The orchestrator sends an attempt again until a session says it started (a
/// message to an agent handing over is lost, as when its node leaves), so the agent takes each session once: a resend
/// of one it took (or refused) is ignored, for the last 1024 sessions. While its node is leaving the cluster the agent
/// takes none: the agent that takes over gets the next resend, rather than a session here dying with the node.
/// </summary>
internal sealed class SourceAdmission(ActorSystem system)
{
    private const int Remembered = 1024;
    private readonly HashSet<string> seen = new(StringComparer.Ordinal);
    private readonly Queue<string> order = new();

    /// <summary>Null when the agent should take (or refuse) the attempt; else why it ignores it.</summary>
    public string? Ignore(RunSource run)
        => seen.Contains(run.Session) ? "a resend of an attempt already taken"
            : Leaving() ? "this node is leaving the cluster (the agent that takes over runs it)"
            : null;

    /// <summary>The attempt was taken or refused: its resends are ignored from now on.</summary>
    public void Answered(RunSource run)
    {
        if (seen.Add(run.Session))
        {
            order.Enqueue(run.Session);
            if (order.Count > Remembered)
            {
                seen.Remove(order.Dequeue());
            }
        }
    }

    private bool Leaving()
        => system is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider }
            && Cluster.Get(system).SelfMember.Status is MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down;
}
