using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using XcrCluster.Actors;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Node;

/// <summary>
/// What one HTTP listener of an event stream reads: a short-lived actor subscribes (the run-progress topic, or the
/// cluster's member events), writes what arrives into a channel the request drains, adds a keep-alive marker every
/// 15 s and optionally a tick (to re-read the books), and unsubscribes when disposed (the client left).
/// </summary>
internal sealed class EventFeed : IAsyncDisposable
{
    public static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(15);

    private readonly ActorSystem system;
    private readonly IActorRef actor;

    private EventFeed(ActorSystem system, IActorRef actor, ChannelReader<object> reader)
    {
        this.system = system;
        this.actor = actor;
        Reader = reader;
    }

    public enum Source
    {
        RunProgress,
        ClusterMembers,
    }

    /// <summary>Written every <see cref="KeepAliveEvery"/>: the stream sends a comment so proxies and clients keep it open.</summary>
    public sealed class KeepAlive
    {
        public static readonly KeepAlive Instance = new();
    }

    /// <summary>Written every tick interval given to <see cref="OpenAsync"/>.</summary>
    public sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>A cluster member's status changed (Up, Leaving, Exiting, Removed, ...; Unreachable and Reachable for reachability).</summary>
    public sealed record MemberChange(string Address, IReadOnlyList<string> Roles, string Status);

    /// <summary><see cref="IRunProgressMessage"/>s or <see cref="MemberChange"/>s, with the markers; bounded, the oldest dropped
    /// for a client that does not read (a listener that misses an end re-reads the books on its ticks).</summary>
    public ChannelReader<object> Reader { get; }

    /// <summary>Returns once subscribed, so nothing published after it is missed on this node.</summary>
    public static async Task<EventFeed> OpenAsync(ActorSystem system, Source source, TimeSpan? tick, CancellationToken ct)
    {
        var channel = Channel.CreateBounded<object>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = system.ActorOf(Props.Create(() => new FeedActor(source, channel.Writer, subscribed, tick)));
        var feed = new EventFeed(system, actor, channel.Reader);
        try
        {
            await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            return feed;
        }
        catch
        {
            await feed.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        system.Stop(actor);
        return ValueTask.CompletedTask;
    }

    private sealed class FeedActor : ReceiveActor, IWithTimers
    {
        private readonly Source source;
        private readonly ChannelWriter<object> writer;
        private readonly TaskCompletionSource subscribed;
        private readonly TimeSpan? tick;

        public FeedActor(Source source, ChannelWriter<object> writer, TaskCompletionSource subscribed, TimeSpan? tick)
        {
            this.source = source;
            this.writer = writer;
            this.subscribed = subscribed;
            this.tick = tick;
            Receive<SubscribeAck>(_ => subscribed.TrySetResult());
            Receive<IRunProgressMessage>(m => writer.TryWrite(m));
            Receive<ClusterEvent.IMemberEvent>(e => writer.TryWrite(Change(e.Member, e.Member.Status.ToString())));
            Receive<ClusterEvent.UnreachableMember>(e => writer.TryWrite(Change(e.Member, "Unreachable")));
            Receive<ClusterEvent.ReachableMember>(e => writer.TryWrite(Change(e.Member, "Reachable")));
            Receive<KeepAlive>(k => writer.TryWrite(k));
            Receive<Tick>(t => writer.TryWrite(t));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            if (source == Source.RunProgress)
            {
                DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(RunProgressTopic.Name, Self));
            }
            else
            {
                // The current members first (as events), then every change.
                Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                    typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
                subscribed.TrySetResult();
            }

            Timers.StartPeriodicTimer("keep-alive", KeepAlive.Instance, KeepAliveEvery);
            if (tick is { } every)
            {
                Timers.StartPeriodicTimer("tick", Tick.Instance, every);
            }
        }

        protected override void PostStop()
        {
            if (source == Source.RunProgress)
            {
                DistributedPubSub.Get(Context.System).Mediator.Tell(new Unsubscribe(RunProgressTopic.Name, Self));
            }
            else
            {
                Cluster.Get(Context.System).Unsubscribe(Self);
            }

            writer.TryComplete();
        }

        private static MemberChange Change(Member member, string status) => new(member.Address.ToString(), [.. member.Roles.Order()], status);
    }
}
