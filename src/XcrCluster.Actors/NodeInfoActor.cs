using Akka.Actor;

namespace XcrCluster.Actors;

/// <summary>What a node tells others about itself that Akka membership does not: the addresses it serves (its http and
/// data channel endpoints, as it advertises them) and the pools whose agent runs on it.</summary>
public interface INodeInfoMessage
{
}

/// <summary>Asked of each member's node-info actor (at <see cref="NodeInfoActor.Path"/>).</summary>
public sealed record GetNodeInfo : INodeInfoMessage
{
    public static readonly GetNodeInfo Instance = new();
}

/// <summary>A node's answer: its endpoints by name (http, akka, data) and the pools whose agent it hosts now.</summary>
public sealed record NodeInfo(IReadOnlyDictionary<string, string> Endpoints, IReadOnlyList<string> Agents) : INodeInfoMessage;

/// <summary>One per node at a well-known path, so any node can ask any member about itself (`GET /api/cluster`).</summary>
public sealed class NodeInfoActor : ReceiveActor
{
    public const string Name = "node-info";

    /// <summary>The actor's path under a member's address.</summary>
    public const string Path = "/user/" + Name;

    public NodeInfoActor(Func<IReadOnlyDictionary<string, string>> endpoints)
        => Receive<GetNodeInfo>(_ => Sender.Tell(new NodeInfo(endpoints(), StateGauges.HostedPools)));

    public static Props Props(Func<IReadOnlyDictionary<string, string>> endpoints)
        => Akka.Actor.Props.Create(() => new NodeInfoActor(endpoints));

    /// <summary>Asks the member at <paramref name="address"/>; null when it does not answer within <paramref name="timeout"/>
    /// (not started yet, gone, an older node without the actor).</summary>
    public static async Task<NodeInfo?> AskAsync(ActorSystem system, Address address, TimeSpan timeout)
    {
        try
        {
            return await system.ActorSelection(new RootActorPath(address) / "user" / Name).Ask<NodeInfo>(GetNodeInfo.Instance, timeout)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException or TaskCanceledException)
        {
            return null;
        }
    }
}
