using Akka.Actor;
using Akka.Persistence;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors;

/// <summary>The control plane's bookkeeping (registered pools, jobs) as a persistent cluster singleton: it
/// persists what <see cref="ControlBook"/> decides and replies. A snapshot every <see cref="SnapshotEvery"/> events,
/// older events deleted once it is saved, so the journal stays short however long the cluster lives.</summary>
public sealed class ControlPlaneActor : BoundedJournalActor
{
    public const int SnapshotEvery = 50;

    private ControlBook book = new();

    public ControlPlaneActor()
    {
        Recover<SnapshotOffer>(offer => book = offer.Snapshot switch
        {
            ControlBook saved => saved,
            ControlState legacy => new ControlBook { State = legacy }, // snapshots from before request ids
            var other => throw new InvalidOperationException($"control plane: unknown snapshot {other.GetType().Name}"),
        });
        Recover<IControlEvent>(e => book = book.Apply(e));
        DeleteWhatSnapshotsCover("control plane");
        Command<IControlRequest>(command =>
        {
            var (e, reply) = book.Process(command);
            if (e is null)
            {
                Sender.Tell(reply);
                return;
            }

            var sender = Sender;
            Persist(e, persisted =>
            {
                book = book.Apply(persisted);
                sender.Tell(reply);
                SnapshotOnEvery(SnapshotEvery, book);
            });
        });
    }

    public override string PersistenceId => "control-plane";

    public static Props Props() => Akka.Actor.Props.Create(() => new ControlPlaneActor());
}

/// <summary>Marker type for the control plane singleton proxy in Akka.Hosting's registry.</summary>
public sealed class ControlPlane
{
}

/// <summary>Pool endpoints from the control plane, credentials decrypted with the cluster key only here, at
/// connection time.</summary>
public sealed class ControlPoolRegistry(Func<Task<IActorRef>> controlPlane, ClusterKey key) : IPoolRegistry
{
    /// <summary>A registration's endpoint before it is stored (its login is checked on a node serving the pool).</summary>
    public Xapi.XapiEndpoint Unseal(PoolRegistration registration) => PoolLogin.Endpoint(registration, key);

    public ControlPoolRegistry(IActorRef controlPlane, ClusterKey key)
        : this(() => Task.FromResult(controlPlane), key)
    {
    }

    public async Task<Xapi.XapiEndpoint> EndpointAsync(string pool)
    {
        var pools = await ControlPlaneClient.AskAsync<PoolList>(controlPlane, new GetPools(), TimeSpan.FromSeconds(30))
            .ConfigureAwait(false);
        var p = pools.Pools.FirstOrDefault(x => x.Name == pool) ?? throw new KeyNotFoundException($"unknown pool \"{pool}\"");
        return PoolLogin.Endpoint(p, key);
    }
}
