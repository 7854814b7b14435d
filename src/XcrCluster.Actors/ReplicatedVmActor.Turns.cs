using Akka.Actor;
using Akka.Event;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>The entity's part in a job's concurrency: a held request waits for its run's coordinator
/// (<see cref="RunCoordinator"/>), starts when released, and is dropped when its coordinator says nothing for the lease.</summary>
public sealed partial class ReplicatedVmActor
{
    /// <summary>How long a held request waits without a word from its coordinator (which watches every few seconds).</summary>
    public static readonly TimeSpan DefaultHoldLease = TimeSpan.FromSeconds(60);

    public ITimerScheduler Timers { get; set; } = null!;

    private void TurnCommands()
    {
        Command<ReleaseRun>(release =>
        {
            Heard(release.RunId);
            PersistThenAnswer(state.Release(release.RunId, DateTimeOffset.UtcNow), release.RunId);
        });
        Command<WatchRun>(watch =>
        {
            Heard(watch.RunId);
            Sender.Tell(new RunTurn(state.VmUuid, watch.RunId, state.StatusOf(watch.RunId)));
        });
        Command<HoldsTick>(_ =>
        {
            var events = turns.Lapsed(state.HeldRuns())
                .SelectMany(run => state.Drop(run, turns.LapseReason, DateTimeOffset.UtcNow)).ToList();
            if (events.Count > 0)
            {
                log.Warning("VM {0}: {1} held run(s) dropped: their coordinator went away", state.VmUuid, events.Count);
                PersistAll(events, AfterPersist);
            }
            else if (!state.HeldRuns().Any())
            {
                Timers.Cancel("holds");
            }
        });
    }

    private void Heard(string runId)
    {
        if (state.StatusOf(runId) is "queued" or "running")
        {
            turns.Heard(runId, Sender);
        }
    }

    /// <summary>Held requests are looked at every quarter of the lease while there are any.</summary>
    private void WatchHolds()
    {
        if (state.HeldRuns().Any() && !Timers.IsTimerActive("holds"))
        {
            Timers.StartPeriodicTimer("holds", HoldsTick.Instance, turns.Lease / 4);
        }
    }

    /// <summary>Persists the events, then answers with the VM's part in the run.</summary>
    private void PersistThenAnswer(IReadOnlyList<IReplicatedVmEvent> events, string runId)
    {
        var sender = Sender;
        if (events.Count == 0)
        {
            sender.Tell(new RunTurn(state.VmUuid, runId, state.StatusOf(runId)));
            return;
        }

        PersistAll(events, e =>
        {
            AfterPersist(e);
            if (e == events[^1])
            {
                sender.Tell(new RunTurn(state.VmUuid, runId, state.StatusOf(runId)));
            }
        });
    }

    private sealed class HoldsTick
    {
        public static readonly HoldsTick Instance = new();
    }
}
