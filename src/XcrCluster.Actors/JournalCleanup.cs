using Akka.Event;
using Akka.Persistence;

namespace XcrCluster.Actors;

/// <summary>A persistent actor whose journal stays bounded: a snapshot every so many events, then the events and
/// snapshots older than it are deleted. A failure to save or delete is only logged: the next snapshot tries again.</summary>
public abstract class BoundedJournalActor : ReceivePersistentActor
{
    private readonly ILoggingAdapter cleanupLog = Context.GetLogger();

    /// <summary>Counted (<see cref="ActorMeter.JournalWriteFailures"/>); Akka then stops the actor (its supervisor or the
    /// singleton's backoff starts it again).</summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        ActorMeter.JournalWriteFailures.Add(1, ActorMeter.Tag("actor", GetType().Name), ActorMeter.Tag("kind", "failure"));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>Counted; the actor goes on (the event was not stored, its handler not run).</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        ActorMeter.JournalWriteFailures.Add(1, ActorMeter.Tag("actor", GetType().Name), ActorMeter.Tag("kind", "rejected"));
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    /// <summary>Call after an event is applied: saves <paramref name="state"/> on every <paramref name="every"/>th event.</summary>
    protected void SnapshotOnEvery(int every, object state)
    {
        if (LastSequenceNr % every == 0)
        {
            SaveSnapshot(state);
        }
    }

    /// <summary>Call in the constructor: handles the snapshot store's and journal's answers.</summary>
    protected void DeleteWhatSnapshotsCover(string name)
    {
        Command<SaveSnapshotSuccess>(success =>
        {
            DeleteMessages(success.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failure => cleanupLog.Warning("{0}: snapshot not saved: {1}", name, failure.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure => cleanupLog.Warning("{0}: old events not deleted: {1}", name, failure.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failure => cleanupLog.Warning("{0}: old snapshots not deleted: {1}", name, failure.Cause.Message));
    }
}
