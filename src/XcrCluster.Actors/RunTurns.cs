using Akka.Actor;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>An entity's view of the coordinators of its runs under a concurrency (<see cref="RunCoordinator"/>): who to tell
/// when the VM's part ends, and when each last said something. In memory only: after a recovery a held request's lease
/// starts again, and its coordinator's next word says where it is.</summary>
internal sealed class RunTurns(TimeSpan lease)
{
    private readonly Dictionary<string, (IActorRef Coordinator, DateTimeOffset Heard)> turns = new(StringComparer.Ordinal);

    public TimeSpan Lease => lease;

    public string LapseReason => $"the run's coordinator said nothing for {lease.TotalSeconds:F0} s before this VM's turn "
        + "(its node stopped?): the VM was not run; the job's next run replicates it";

    public void Heard(string runId, IActorRef coordinator) => turns[runId] = (coordinator, DateTimeOffset.UtcNow);

    /// <summary>The held requests whose coordinator said nothing for the lease; one not seen yet (after a recovery) starts
    /// its lease now.</summary>
    public IReadOnlyList<string> Lapsed(IEnumerable<ReplicateVm> held)
    {
        var now = DateTimeOffset.UtcNow;
        var lapsed = new List<string>();
        foreach (var request in held)
        {
            if (!turns.TryGetValue(request.RunId, out var turn))
            {
                turns[request.RunId] = (ActorRefs.Nobody, now);
            }
            else if (now - turn.Heard > lease)
            {
                lapsed.Add(request.RunId);
            }
        }

        return lapsed;
    }

    /// <summary>The VM's part in the run ended: its coordinator is told (its slot goes to the next VM).</summary>
    public void Ended(string vmUuid, string runId, string? status)
    {
        if (turns.Remove(runId, out var turn))
        {
            turn.Coordinator.Tell(new RunTurn(vmUuid, runId, status));
        }
    }
}
