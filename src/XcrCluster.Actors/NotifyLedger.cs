using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;

namespace XcrCluster.Actors;

/// <summary>The notifier started keeping its ledger: runs that ended before are not reported (they predate notifications).</summary>
public sealed record NotifyLedgerStarted(DateTimeOffset At) : INotifierMessage;

public sealed record DeliveryLogged(DeliveryEntry Entry) : INotifierMessage;

public sealed record RunReported(string RunId) : INotifierMessage;

public sealed record GetNotifyLedger : INotifierMessage;

/// <summary>What the notifier keeps across moves and restarts: since when it reports runs, the runs it reported (so a run is
/// reported once, and one that ended while it moved is still reported) and its delivery log, newest first. Bounded. Pure.</summary>
public sealed record NotifyLedgerState(DateTimeOffset? Since, ImmutableList<DeliveryEntry> Log, ImmutableList<string> Reported)
    : INotifierMessage
{
    public const int ReportedKept = 2000;

    public static readonly NotifyLedgerState Empty = new(null, [], []);

    public NotifyLedgerState Apply(INotifierMessage e, int logLimit) => e switch
    {
        NotifyLedgerStarted s => this with { Since = Since ?? s.At },
        DeliveryLogged d => this with { Log = (Log.Count >= logLimit ? Log.RemoveRange(logLimit - 1, Log.Count - logLimit + 1) : Log)
            .Insert(0, d.Entry) },
        RunReported r => this with { Reported = (Reported.Count >= ReportedKept ? Reported.RemoveAt(0) : Reported).Add(r.RunId) },
        _ => this,
    };
}

/// <summary>The notifier's ledger (<see cref="NotifyLedgerState"/>) as a persistent child of the notifier: events told, the
/// state asked once at the notifier's start. A snapshot every <see cref="SnapshotEvery"/> events, older events deleted.</summary>
public sealed class NotifyLedgerActor : BoundedJournalActor
{
    public const int SnapshotEvery = 100;

    private NotifyLedgerState state = NotifyLedgerState.Empty;

    public NotifyLedgerActor(int logLimit)
    {
        Recover<SnapshotOffer>(offer => state = (NotifyLedgerState)offer.Snapshot);
        Recover<INotifierMessage>(e => state = state.Apply(e, logLimit));
        DeleteWhatSnapshotsCover("notifier");
        Command<GetNotifyLedger>(_ =>
        {
            var sender = Sender;
            if (state.Since is not null)
            {
                sender.Tell(state);
                return;
            }

            Persist(new NotifyLedgerStarted(DateTimeOffset.UtcNow), started =>
            {
                state = state.Apply(started, logLimit);
                sender.Tell(state);
            });
        });
        Command<INotifierMessage>(e => Persist(e, persisted =>
        {
            state = state.Apply(persisted, logLimit);
            SnapshotOnEvery(SnapshotEvery, state);
        }));
    }

    public override string PersistenceId => "notifier";

    public static Props Props(int logLimit) => Akka.Actor.Props.Create(() => new NotifyLedgerActor(logLimit));
}
